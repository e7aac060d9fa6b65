"""Code lists of the I-SAF service and their Khmer and English labels.

Stored values are these codes; responses give labels in the caller's language, and reports
carry both. A code list is a `StrEnum` (the OpenAPI document lists its values), registered
below with its labels (`shared.http.labels`), so the document carries them (`x-enum-labels`)
and `GET /isaf/reference/code-lists` serves them to portals.
"""

from __future__ import annotations

import enum
from typing import get_args

from shared.events.catalog.isaf import SupportRequestType
from shared.http.labels import code_list


class FacilityType(enum.StrEnum):
    COMMUNE_ADMINISTRATION = "commune_administration"
    HEALTH_CENTRE = "health_centre"
    PRIMARY_SCHOOL = "primary_school"
    KHAN_ADMINISTRATION = "khan_administration"


# The providers a sangkat's cycle covers; a khan's cycle covers the khan administration.
COMMUNE_FACILITY_TYPES = frozenset(
    {FacilityType.COMMUNE_ADMINISTRATION, FacilityType.HEALTH_CENTRE, FacilityType.PRIMARY_SCHOOL}
)


class Stage(enum.StrEnum):
    I4C = "i4c"
    SCORECARD = "scorecard"
    INTERFACE_MEETING = "interface_meeting"
    JAAP = "jaap"
    MONITORING = "monitoring"
    CLOSED = "closed"


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


class ActivityType(enum.StrEnum):
    I4C_DISSEMINATION = "i4c_dissemination"
    DOOR_TO_DOOR = "door_to_door"
    JAAP_COMMITTEE_MEETING = "jaap_committee_meeting"
    INTERFACE_MEETING = "interface_meeting"
    PUBLIC_FORUM = "public_forum"


class Audience(enum.StrEnum):
    CAF = "caf"  # demand side
    SERVICE_PROVIDER = "service_provider"  # supply side
    SNA_STAFF = "sna_staff"


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class AgeBand(enum.StrEnum):
    UNDER_18 = "under_18"
    FROM_18_TO_24 = "18_24"
    FROM_25_TO_44 = "25_44"
    FROM_45_TO_64 = "45_64"
    FROM_65 = "65_plus"


class ScorecardKind(enum.StrEnum):
    COMMUNITY = "community"
    SELF_ASSESSMENT = "self_assessment"


class ScorecardStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    COMPLETED = "completed"


SCORECARD_TRANSITIONS: dict[ScorecardStatus, frozenset[ScorecardStatus]] = {
    ScorecardStatus.PLANNED: frozenset({ScorecardStatus.IN_PROGRESS}),
    ScorecardStatus.IN_PROGRESS: frozenset({ScorecardStatus.IN_REVIEW}),
    # A review can send the sitting back for corrections.
    ScorecardStatus.IN_REVIEW: frozenset({ScorecardStatus.IN_PROGRESS, ScorecardStatus.COMPLETED}),
    ScorecardStatus.COMPLETED: frozenset(),
}


class IndicatorSource(enum.StrEnum):
    STANDARD = "standard"
    PARTICIPANT = "participant"  # raised by the participants at the sitting


class ActionStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DROPPED = "dropped"


ACTION_TRANSITIONS: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.NOT_STARTED: frozenset(
        {ActionStatus.IN_PROGRESS, ActionStatus.COMPLETED, ActionStatus.DROPPED}
    ),
    ActionStatus.IN_PROGRESS: frozenset({ActionStatus.COMPLETED, ActionStatus.DROPPED}),
    ActionStatus.COMPLETED: frozenset(),
    ActionStatus.DROPPED: frozenset(),
}


class ResponsibleTier(enum.StrEnum):
    PROVIDER = "provider"  # the facility itself
    CS = "cs"
    DMK = "dmk"
    CP = "cp"
    NATIONAL = "national"


class ForumItemKind(enum.StrEnum):
    QUESTION = "question"
    ISSUE = "issue"


class GrievanceCategory(enum.StrEnum):
    """The grievance service's categories a forum issue may be sent under (its code list)."""

    EXCLUSION_ERROR = "exclusion_error"
    INCLUSION_ERROR = "inclusion_error"
    PAYMENT_PROBLEM = "payment_problem"
    DATA_CORRECTION = "data_correction"
    SERVICE_QUALITY_COMMUNE = "service_quality_commune"
    SERVICE_QUALITY_HEALTH_CENTRE = "service_quality_health_centre"
    SERVICE_QUALITY_SCHOOL = "service_quality_school"
    STAFF_CONDUCT = "staff_conduct"
    INFORMATION_REQUEST = "information_request"
    SUGGESTION = "suggestion"
    OTHER = "other"


# The rating scale of every scorecard: 1 very bad ... 5 very good.
SCALE: dict[int, dict[str, str]] = {
    1: {"en": "very bad", "km": "អាក្រក់ខ្លាំង"},
    2: {"en": "bad", "km": "អាក្រក់"},
    3: {"en": "acceptable", "km": "ល្មម"},
    4: {"en": "good", "km": "ល្អ"},
    5: {"en": "very good", "km": "ល្អណាស់"},
}

LABELS: dict[str, dict[str, str]] = {
    "commune_administration": {"en": "Commune/sangkat administration", "km": "រដ្ឋបាលឃុំ/សង្កាត់"},
    "health_centre": {"en": "Health centre", "km": "មណ្ឌលសុខភាព"},
    "primary_school": {"en": "Primary school", "km": "សាលាបឋមសិក្សា"},
    "khan_administration": {"en": "Khan administration", "km": "រដ្ឋបាលខណ្ឌ"},
    "i4c": {"en": "Information for citizens (I4C)", "km": "ព័ត៌មានសម្រាប់ពលរដ្ឋ"},
    "scorecard": {"en": "Community scorecard", "km": "កាតពិន្ទុសហគមន៍"},
    "interface_meeting": {"en": "Interface meeting", "km": "កិច្ចប្រជុំផ្សារភ្ជាប់"},
    "jaap": {"en": "Joint Accountability Action Plan", "km": "ផែនការសកម្មភាពគណនេយ្យភាពរួម"},
    "monitoring": {"en": "JAAP monitoring", "km": "ការតាមដានផែនការសកម្មភាព"},
    "closed": {"en": "Closed", "km": "បានបិទ"},
    "i4c_dissemination": {"en": "I4C dissemination meeting", "km": "កិច្ចប្រជុំផ្សព្វផ្សាយ I4C"},
    "door_to_door": {"en": "Door-to-door dissemination", "km": "ការផ្សព្វផ្សាយពីផ្ទះមួយទៅផ្ទះមួយ"},
    "jaap_committee_meeting": {"en": "JAAP committee meeting", "km": "កិច្ចប្រជុំគណៈកម្មការ JAAP"},
    "public_forum": {"en": "Public forum", "km": "វេទិកាសាធារណៈ"},
    "community": {"en": "Community scorecard", "km": "កាតពិន្ទុសហគមន៍"},
    "self_assessment": {"en": "Service provider self-assessment", "km": "ការវាយតម្លៃខ្លួនឯង"},
    "caf": {"en": "CAFs (demand side)", "km": "អ្នកសម្របសម្រួលគណនេយ្យភាពសហគមន៍"},
    "service_provider": {"en": "Service providers (supply side)", "km": "អ្នកផ្តល់សេវា"},
    "sna_staff": {"en": "Sub-national administration staff", "km": "មន្ត្រីរដ្ឋបាលថ្នាក់ក្រោមជាតិ"},
    "not_started": {"en": "Not started", "km": "មិនទាន់ចាប់ផ្តើម"},
    "in_progress": {"en": "In progress", "km": "កំពុងអនុវត្ត"},
    "completed": {"en": "Completed", "km": "បានបញ្ចប់"},
    "dropped": {"en": "Dropped", "km": "បានបោះបង់"},
    "participants": {"en": "Participants", "km": "អ្នកចូលរួម"},
    "women": {"en": "Women", "km": "ស្ត្រី"},
    "men": {"en": "Men", "km": "បុរស"},
    "other_sex": {"en": "Other sex", "km": "ភេទផ្សេងទៀត"},
}


def label(code: str, language: str = "en") -> str:
    return LABELS.get(code, {}).get(language, code)


def labels(code: str) -> dict[str, str]:
    return {"km": label(code, "km"), "en": label(code, "en")}


# Registered code lists: their labels go into the OpenAPI document (`x-enum-labels`) and are
# served at `GET /isaf/reference/code-lists` (shared.http.labels, shared.http.reference).
def _pairs(codes: tuple[str, ...] | type[enum.Enum]) -> dict[str, tuple[str, str]]:
    values = [str(c.value) for c in codes] if isinstance(codes, type) else list(codes)
    return {code: (LABELS[code]["en"], LABELS[code]["km"]) for code in values}


FACILITY_TYPE = code_list(
    "facility-types",
    FacilityType,
    _pairs(FacilityType),
    description="The service providers an I-SAF cycle covers.",
)
STAGE = code_list(
    "stages", Stage, _pairs(Stage), description="Where an I-SAF cycle stands, in order."
)
ACTIVITY_TYPE = code_list(
    "activity-types",
    ActivityType,
    _pairs(ActivityType),
    description="The meetings and visits of a cycle.",
)
AUDIENCE = code_list("audiences", Audience, _pairs(Audience), description="Who a training was for.")
SEX = code_list(
    "sex",
    Sex,
    {"female": ("Female", "ស្រី"), "male": ("Male", "ប្រុស"), "other": ("Other", "ផ្សេងៗ")},
    description="A person's sex, as they give it.",
)
AGE_BAND = code_list(
    "age-bands",
    AgeBand,
    {
        "under_18": ("Under 18", "ក្រោម ១៨ ឆ្នាំ"),
        "18_24": ("18 to 24", "១៨ ដល់ ២៤ ឆ្នាំ"),
        "25_44": ("25 to 44", "២៥ ដល់ ៤៤ ឆ្នាំ"),
        "45_64": ("45 to 64", "៤៥ ដល់ ៦៤ ឆ្នាំ"),
        "65_plus": ("65 and over", "៦៥ ឆ្នាំឡើងទៅ"),
    },
    description="A participant's age band.",
)
SCORECARD_KIND = code_list(
    "scorecard-kinds",
    ScorecardKind,
    _pairs(ScorecardKind),
    description="A community scorecard (demand side) or a provider's self-assessment.",
)
SCORECARD_STATUS = code_list(
    "scorecard-statuses",
    ScorecardStatus,
    {
        "planned": ("Planned", "បានគ្រោងទុក"),
        "in_progress": ("In progress", "កំពុងអនុវត្ត"),
        "in_review": ("In review", "កំពុងពិនិត្យ"),
        "completed": ("Completed", "បានបញ្ចប់"),
    },
    description="Where a scorecard stands.",
)
INDICATOR_SOURCE = code_list(
    "indicator-sources",
    IndicatorSource,
    {
        "standard": ("Standard indicator", "សូចនាករស្តង់ដារ"),
        "participant": ("Raised by the participants", "លើកឡើងដោយអ្នកចូលរួម"),
    },
    description="Whether an indicator is from the catalogue or raised at the sitting.",
)
ACTION_STATUS = code_list(
    "action-statuses",
    ActionStatus,
    _pairs(ActionStatus),
    description="Where a JAAP action stands.",
)
RESPONSIBLE_TIER = code_list(
    "responsible-tiers",
    ResponsibleTier,
    {
        "provider": ("The service provider", "អ្នកផ្តល់សេវា"),
        "cs": ("Commune/Sangkat", "ឃុំ/សង្កាត់"),
        "dmk": ("District/Municipality/Khan", "ស្រុក/ក្រុង/ខណ្ឌ"),
        "cp": ("Capital/Province", "រាជធានី/ខេត្ត"),
        "national": ("National", "ថ្នាក់ជាតិ"),
    },
    description="Who carries out a JAAP action; a support request goes to dmk or cp.",
)
FORUM_ITEM_KIND = code_list(
    "forum-item-kinds",
    ForumItemKind,
    {"question": ("Question", "សំណួរ"), "issue": ("Issue", "បញ្ហា")},
    description="What a citizen raised at a public forum.",
)
GRIEVANCE_CATEGORY = code_list(
    "grievance-categories",
    GrievanceCategory,
    {
        "exclusion_error": ("Left out of a programme (exclusion error)", "កំហុសដកចេញពីកម្មវិធី"),
        "inclusion_error": ("Wrongly included (inclusion error)", "កំហុសដាក់បញ្ចូលខុស"),
        "payment_problem": ("Payment problem", "បញ្ហាការទូទាត់ប្រាក់"),
        "data_correction": ("Data correction", "កែតម្រូវទិន្នន័យ"),
        "service_quality_commune": ("Service quality: commune/sangkat", "គុណភាពសេវា៖ ឃុំ/សង្កាត់"),
        "service_quality_health_centre": ("Service quality: health centre", "គុណភាពសេវា៖ មណ្ឌលសុខភាព"),
        "service_quality_school": ("Service quality: school", "គុណភាពសេវា៖ សាលារៀន"),
        "staff_conduct": ("Staff conduct", "អាកប្បកិរិយារបស់មន្ត្រី"),
        "information_request": ("Request for information", "ស្នើសុំព័ត៌មាន"),
        "suggestion": ("Suggestion", "សំណូមពរ"),
        "other": ("Other", "ផ្សេងៗ"),
    },
    description="The grievance categories a forum issue may be sent under.",
)
SUPPORT_REQUEST_TYPE = code_list(
    "support-request-types",
    get_args(SupportRequestType),
    {
        "training_workshop": ("Training or workshop", "វគ្គបណ្តុះបណ្តាល ឬសិក្ខាសាលា"),
        "incentive": ("Incentive", "ប្រាក់លើកទឹកចិត្ត"),
        "budget": ("Budget", "ថវិកា"),
        "dissemination_material": ("Dissemination material", "សម្ភារៈផ្សព្វផ្សាយ"),
        "equipment": ("Equipment", "សម្ភារៈបរិក្ខារ"),
        "transport": ("Transport", "ការធ្វើដំណើរ"),
        "internet": ("Internet", "អ៊ីនធឺណិត"),
        "staff": ("Staff", "បុគ្គលិក"),
    },
    description="The support a JAAP action may ask a higher tier for.",
    enum_name="SupportRequestType",
    owner="isaf",
)

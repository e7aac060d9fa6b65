"""Code lists of grievances (categories, channels, states, decisions ...) with their Khmer and
English labels, as the domain document names them.

The stored value is always the code; labels are for people and follow `Accept-Language`.
"""

from __future__ import annotations

import enum

from shared.http.labels import code_list


class Category(enum.StrEnum):
    EXCLUSION_ERROR = "exclusion_error"
    INCLUSION_ERROR = "inclusion_error"
    PAYMENT_PROBLEM = "payment_problem"
    CARD_REQUEST_IDPOOR = "card_request_idpoor"
    CARD_REQUEST_DISABILITY = "card_request_disability"
    CARD_REQUEST_RISK = "card_request_risk"
    DATA_CORRECTION = "data_correction"
    SERVICE_QUALITY_COMMUNE = "service_quality_commune"
    SERVICE_QUALITY_HEALTH_CENTRE = "service_quality_health_centre"
    SERVICE_QUALITY_SCHOOL = "service_quality_school"
    STAFF_CONDUCT = "staff_conduct"
    FRAUD_CORRUPTION = "fraud_corruption"
    ABUSE = "abuse"
    INFORMATION_REQUEST = "information_request"
    SUGGESTION = "suggestion"
    OTHER = "other"


class Channel(enum.StrEnum):
    COMMUNE_OFFICE = "commune_office"
    ONE_WINDOW_SERVICE_OFFICE = "one_window_service_office"
    CITIZEN_OFFICE = "citizen_office"
    HOTLINE = "hotline"
    CAF_DOOR_TO_DOOR = "caf_door_to_door"
    SCORECARD_MEETING = "scorecard_meeting"
    PUBLIC_FORUM = "public_forum"
    WEB = "web"
    MOBILE_APP = "mobile_app"


# Channels a citizen uses on their own, through the public endpoint.
PUBLIC_CHANNELS = frozenset({Channel.WEB, Channel.MOBILE_APP})


class Status(enum.StrEnum):
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    REOPENED = "reopened"


# States in which the handling unit still owes an answer (SLA clocks run, escalation applies).
OPEN_STATUSES = frozenset(
    {Status.SUBMITTED, Status.REOPENED, Status.ACKNOWLEDGED, Status.IN_PROGRESS}
)
AWAITING_ACKNOWLEDGEMENT = frozenset({Status.SUBMITTED, Status.REOPENED})


class Decision(enum.StrEnum):
    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    NOT_UPHELD = "not_upheld"
    REFERRED = "referred"


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class AgeGroup(enum.StrEnum):
    UNDER_18 = "under_18"
    AGE_18_35 = "18_35"
    AGE_36_59 = "36_59"
    AGE_60_PLUS = "60_plus"


class Vulnerability(enum.StrEnum):
    DISABILITY = "disability"
    IDPOOR = "idpoor"
    ETHNIC_MINORITY = "ethnic_minority"
    OLDER_PERSON = "older_person"
    FEMALE_HEADED_HOUSEHOLD = "female_headed_household"


class TimelineKind(enum.StrEnum):
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    ESCALATED = "escalated"
    SLA_BREACHED = "sla_breached"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    REOPENED = "reopened"
    RATED = "rated"
    PUBLIC_RESPONSE = "public_response"
    INTERNAL_NOTE = "internal_note"
    HOUSEHOLD_LINKED = "household_linked"  # internal: which household, by whom


# code -> (English, Khmer)
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "categories": {
        "exclusion_error": ("Left out of a programme (exclusion error)", "កំហុសដកចេញពីកម្មវិធី"),
        "inclusion_error": ("Wrongly included (inclusion error)", "កំហុសដាក់បញ្ចូលខុស"),
        "payment_problem": ("Payment problem", "បញ្ហាការទូទាត់ប្រាក់"),
        "card_request_idpoor": ("IDPoor card request", "ស្នើសុំប័ណ្ណក្រីក្រ"),
        "card_request_disability": ("Disability card request", "ស្នើសុំប័ណ្ណពិការភាព"),
        "card_request_risk": ("Risk card request", "ស្នើសុំប័ណ្ណហានិភ័យ"),
        "data_correction": ("Data correction", "កែតម្រូវទិន្នន័យ"),
        "service_quality_commune": (
            "Service quality: commune/sangkat",
            "គុណភាពសេវា៖ ឃុំ/សង្កាត់",
        ),
        "service_quality_health_centre": (
            "Service quality: health centre",
            "គុណភាពសេវា៖ មណ្ឌលសុខភាព",
        ),
        "service_quality_school": ("Service quality: school", "គុណភាពសេវា៖ សាលារៀន"),
        "staff_conduct": ("Staff conduct", "អាកប្បកិរិយារបស់មន្ត្រី"),
        "fraud_corruption": ("Fraud or corruption", "ការក្លែងបន្លំ ឬអំពើពុករលួយ"),
        "abuse": ("Abuse", "ការរំលោភបំពាន"),
        "information_request": ("Request for information", "ស្នើសុំព័ត៌មាន"),
        "suggestion": ("Suggestion", "សំណូមពរ"),
        "other": ("Other", "ផ្សេងៗ"),
    },
    "channels": {
        "commune_office": ("Commune/sangkat office", "សាលាឃុំ/សង្កាត់"),
        "one_window_service_office": (
            "One Window Service Office",
            "ការិយាល័យច្រកចេញចូលតែមួយ",
        ),
        "citizen_office": ("Citizen Office (district ombudsman)", "ការិយាល័យប្រជាពលរដ្ឋ"),
        "hotline": ("Hotline (phone)", "ទូរស័ព្ទទាន់ហេតុការណ៍"),
        "caf_door_to_door": ("CAF door-to-door", "អ្នកសម្របសម្រួលគណនេយ្យភាពសហគមន៍ ចុះពីផ្ទះមួយទៅផ្ទះមួយ"),
        "scorecard_meeting": ("Community scorecard meeting", "កិច្ចប្រជុំប័ណ្ណដាក់ពិន្ទុសហគមន៍"),
        "public_forum": ("Public forum", "វេទិកាសាធារណៈ"),
        "web": ("Website", "គេហទំព័រ"),
        "mobile_app": ("Mobile app", "កម្មវិធីទូរស័ព្ទ"),
    },
    "statuses": {
        "submitted": ("Submitted", "បានដាក់ស្នើ"),
        "acknowledged": ("Acknowledged", "បានទទួលស្គាល់"),
        "in_progress": ("In progress", "កំពុងដោះស្រាយ"),
        "resolved": ("Resolved", "បានដោះស្រាយ"),
        "closed": ("Closed", "បានបិទ"),
        "rejected": ("Rejected", "បានបដិសេធ"),
        "reopened": ("Reopened", "បានបើកឡើងវិញ"),
    },
    "decisions": {
        "upheld": ("Upheld", "ទទួលយក"),
        "partly_upheld": ("Partly upheld", "ទទួលយកដោយផ្នែក"),
        "not_upheld": ("Not upheld", "មិនទទួលយក"),
        "referred": ("Referred elsewhere", "បញ្ជូនទៅស្ថាប័នផ្សេង"),
    },
    "tiers": {
        "cs": ("Commune/Sangkat", "ឃុំ/សង្កាត់"),
        "dmk": ("District/Municipality/Khan", "ស្រុក/ក្រុង/ខណ្ឌ"),
        "cp": ("Capital/Province", "រាជធានី/ខេត្ត"),
        "national": ("National", "ថ្នាក់ជាតិ"),
    },
}

CODE_LISTS = tuple(LABELS)


def label(code_list: str, code: str, language: str) -> str:
    english, khmer = LABELS[code_list][code]
    return khmer if language == "km" else english


# Registered code lists: their labels go into the OpenAPI document (`x-enum-labels`) and are
# served at `GET /grievance/reference/code-lists` (shared.http.labels).
def _pairs(code_list_name: str) -> dict[str, tuple[str, str]]:
    return dict(LABELS[code_list_name])


CATEGORY = code_list(
    "categories", Category, _pairs("categories"), description="What a grievance is about."
)
CHANNEL = code_list(
    "channels", Channel, _pairs("channels"), description="How a grievance reached us."
)
STATUS = code_list("statuses", Status, _pairs("statuses"), description="Where a grievance stands.")
DECISION = code_list(
    "decisions", Decision, _pairs("decisions"), description="How a grievance was resolved."
)
SEX = code_list(
    "sex",
    Sex,
    {"female": ("Female", "ស្រី"), "male": ("Male", "ប្រុស"), "other": ("Other", "ផ្សេងៗ")},
    description="The complainant's sex, as they give it.",
)
AGE_GROUP = code_list(
    "age-groups",
    AgeGroup,
    {
        "under_18": ("Under 18", "ក្រោម ១៨ ឆ្នាំ"),
        "18_35": ("18 to 35", "១៨ ដល់ ៣៥ ឆ្នាំ"),
        "36_59": ("36 to 59", "៣៦ ដល់ ៥៩ ឆ្នាំ"),
        "60_plus": ("60 and over", "៦០ ឆ្នាំឡើងទៅ"),
    },
    description="The complainant's age group.",
)
VULNERABILITY = code_list(
    "vulnerabilities",
    Vulnerability,
    {
        "disability": ("Person with disability", "ជនមានពិការភាព"),
        "idpoor": ("IDPoor household", "គ្រួសារក្រីក្រ (IDPoor)"),
        "ethnic_minority": ("Ethnic minority", "ជនជាតិដើមភាគតិច"),
        "older_person": ("Older person", "មនុស្សចាស់"),
        "female_headed_household": ("Female-headed household", "គ្រួសារមានស្ត្រីជាមេគ្រួសារ"),
    },
    description="What makes the complainant vulnerable, as they say.",
)
TIMELINE_KIND = code_list(
    "timeline-kinds",
    TimelineKind,
    {
        "submitted": ("Submitted", "បានដាក់ស្នើ"),
        "acknowledged": ("Acknowledged", "បានទទួលស្គាល់"),
        "in_progress": ("Work started", "បានចាប់ផ្តើមដោះស្រាយ"),
        "escalated": ("Escalated", "បានបញ្ជូនទៅថ្នាក់លើ"),
        "sla_breached": ("Answer overdue", "ហួសពេលកំណត់ឆ្លើយតប"),
        "resolved": ("Resolved", "បានដោះស្រាយ"),
        "closed": ("Closed", "បានបិទ"),
        "rejected": ("Rejected", "បានបដិសេធ"),
        "reopened": ("Reopened", "បានបើកឡើងវិញ"),
        "rated": ("Rated by the complainant", "អ្នកប្តឹងបានវាយតម្លៃ"),
        "public_response": ("Answer to the complainant", "ចម្លើយជូនអ្នកប្តឹង"),
        "internal_note": ("Internal note", "កំណត់ចំណាំផ្ទៃក្នុង"),
        "household_linked": ("Household linked", "បានភ្ជាប់គ្រួសារ"),
    },
    description="What a timeline entry records.",
)

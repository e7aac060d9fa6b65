"""The registry's code lists with their English and Khmer labels, one per enumeration a
client sees. Registering them (`shared.http.labels.code_list`) puts the labels in the OpenAPI
document and serves them at `GET /registry/reference/code-lists`.
"""

from __future__ import annotations

from services.registry.benefits.models import BenefitChannel, BenefitStatus
from services.registry.cases.models import CaseStatus, CaseType
from services.registry.change_requests.models import ChangeRequestStatus, ChangeType
from services.registry.duplicates.models import DuplicateReason, DuplicateStatus
from services.registry.enrolments.models import EnrolmentStatus
from services.registry.households.models import (
    AssessmentMethod,
    DisabilitySeverity,
    HouseholdStatus,
    MemberStatus,
    PovertyLevel,
    Relationship,
    SchoolEnrolment,
    Sex,
    VulnerabilityCategory,
)
from services.registry.imports.models import FileFormat, ImportStatus
from services.registry.programmes.models import BenefitPeriod, ProgrammeTarget
from services.registry.reports.labels import POVERTY_LEVELS
from shared.gazetteer import Level
from shared.http.labels import code_list

POVERTY_LEVEL = code_list(
    "poverty-levels",
    PovertyLevel,
    {code: POVERTY_LEVELS[code] for code in PovertyLevel},
    description="IDPoor poverty levels.",
)
ASSESSMENT_METHOD = code_list(
    "assessment-methods",
    AssessmentMethod,
    {
        "ROUND": ("Regular IDPoor round", "ជុំអត្តសញ្ញាណកម្មធម្មតា"),
        "ON_DEMAND": ("On-demand IDPoor", "អត្តសញ្ញាណកម្មតាមតម្រូវការ"),
    },
    description="How a poverty status was assessed.",
)
VULNERABILITY = code_list(
    "vulnerabilities",
    VulnerabilityCategory,
    {
        "disability": ("Person with disability", "ជនមានពិការភាព"),
        "elderly": ("Older person", "មនុស្សចាស់"),
        "under_18": ("Child under 18", "កុមារអាយុក្រោម ១៨ ឆ្នាំ"),
        "under_2": ("Child under 2", "កុមារអាយុក្រោម ២ ឆ្នាំ"),
        "female_headed": ("Female-headed household", "គ្រួសារមានស្ត្រីជាមេគ្រួសារ"),
    },
    description="The on-demand IDPoor vulnerability categories.",
)
SEX = code_list(
    "sex", Sex, {"female": ("Female", "ស្រី"), "male": ("Male", "ប្រុស")}, description="Sex."
)
RELATIONSHIP = code_list(
    "relationships",
    Relationship,
    {
        "head": ("Head of household", "មេគ្រួសារ"),
        "spouse": ("Spouse", "ប្តី ឬប្រពន្ធ"),
        "child": ("Child", "កូន"),
        "parent": ("Parent", "ឪពុក ឬម្តាយ"),
        "grandchild": ("Grandchild", "ចៅ"),
        "sibling": ("Brother or sister", "បងប្អូន"),
        "other_relative": ("Other relative", "សាច់ញាតិផ្សេងទៀត"),
        "non_relative": ("Not related", "មិនមែនសាច់ញាតិ"),
    },
    description="A member's relationship to the head of household.",
)
DISABILITY_SEVERITY = code_list(
    "disability-severities",
    DisabilitySeverity,
    {
        "severe": ("Severe", "ធ្ងន់ធ្ងរ"),
        "medium": ("Medium", "មធ្យម"),
        "mild": ("Mild", "ស្រាល"),
    },
    description="Severity of a member's disability.",
)
SCHOOL_ENROLMENT = code_list(
    "school-enrolments",
    SchoolEnrolment,
    {
        "not_enrolled": ("Not enrolled", "មិនបានចុះឈ្មោះចូលរៀន"),
        "pre_school": ("Pre-school", "មត្តេយ្យសិក្សា"),
        "primary": ("Primary school", "បឋមសិក្សា"),
        "lower_secondary": ("Lower secondary school", "អនុវិទ្យាល័យ"),
        "upper_secondary": ("Upper secondary school", "វិទ្យាល័យ"),
        "tertiary": ("Higher education", "ឧត្តមសិក្សា"),
    },
    description="The school level a member attends.",
)
HOUSEHOLD_STATUS = code_list(
    "household-statuses",
    HouseholdStatus,
    {
        "pending_verification": ("Awaiting verification", "រង់ចាំការផ្ទៀងផ្ទាត់"),
        "returned": ("Returned to the commune", "បានបញ្ជូនត្រឡប់ទៅឃុំវិញ"),
        "active": ("Active", "សកម្ម"),
        "moved": ("Moved away", "បានផ្លាស់ទីលំនៅ"),
        "dissolved": ("Dissolved", "បានរំលាយ"),
    },
    description="Where a household stands in the registry.",
)
MEMBER_STATUS = code_list(
    "member-statuses",
    MemberStatus,
    {
        "active": ("Active", "សកម្ម"),
        "deceased": ("Deceased", "បានទទួលមរណភាព"),
        "moved_out": ("Moved out", "បានចាកចេញពីគ្រួសារ"),
        "removed": ("Removed (recorded in error)", "បានលុប (កត់ត្រាខុស)"),
    },
    description="Whether a member still belongs to the household.",
)
PROGRAMME_TARGET = code_list(
    "programme-targets",
    ProgrammeTarget,
    {"household": ("Household", "គ្រួសារ"), "individual": ("Individual", "បុគ្គល")},
    description="Whom a programme enrols.",
)
BENEFIT_PERIOD = code_list(
    "benefit-periods",
    BenefitPeriod,
    {
        "monthly": ("Monthly", "ប្រចាំខែ"),
        "quarterly": ("Quarterly", "ប្រចាំត្រីមាស"),
        "yearly": ("Yearly", "ប្រចាំឆ្នាំ"),
        "one_off": ("One-off", "ម្តង"),
    },
    description="How often a programme pays.",
)
ENROLMENT_STATUS = code_list(
    "enrolment-statuses",
    EnrolmentStatus,
    {
        "proposed": ("Proposed", "បានស្នើ"),
        "enrolled": ("Enrolled", "បានចុះឈ្មោះ"),
        "suspended": ("Suspended", "ផ្អាក"),
        "exited": ("Exited", "បានចាកចេញ"),
        "rejected": ("Rejected", "បានបដិសេធ"),
    },
    description="Where an enrolment stands.",
)
BENEFIT_STATUS = code_list(
    "benefit-statuses",
    BenefitStatus,
    {
        "scheduled": ("Scheduled", "បានគ្រោង"),
        "paid": ("Paid", "បានបើកផ្តល់"),
        "failed": ("Failed", "បរាជ័យ"),
        "returned": ("Returned", "ត្រឡប់វិញ"),
    },
    description="Where a benefit payment stands.",
)
BENEFIT_CHANNEL = code_list(
    "benefit-channels",
    BenefitChannel,
    {
        "cash_wing": ("Cash through Wing", "សាច់ប្រាក់តាម Wing"),
        "mobile_money": ("Mobile money", "ប្រាក់តាមទូរស័ព្ទ"),
        "bank": ("Bank transfer", "ផ្ទេរតាមធនាគារ"),
        "cash_in_hand": ("Cash in hand", "សាច់ប្រាក់ផ្ទាល់ដៃ"),
        "in_kind": ("In kind", "ជាសម្ភារៈ"),
    },
    description="How a benefit is paid.",
)
CASE_TYPE = code_list(
    "case-types",
    CaseType,
    {
        "referral": ("Referral", "ការបញ្ជូន"),
        "follow_up": ("Follow-up", "ការតាមដាន"),
        "reassessment": ("Reassessment", "ការវាយតម្លៃឡើងវិញ"),
        "protection": ("Protection", "ការការពារ"),
    },
    description="What a case is for.",
)
CASE_STATUS = code_list(
    "case-statuses",
    CaseStatus,
    {
        "open": ("Open", "បើក"),
        "in_progress": ("In progress", "កំពុងដំណើរការ"),
        "closed": ("Closed", "បានបិទ"),
    },
    description="Where a case stands.",
)
CHANGE_TYPE = code_list(
    "change-types",
    ChangeType,
    {
        "register_household": ("Register a household", "ចុះឈ្មោះគ្រួសារ"),
        "update_household": ("Update a household", "កែប្រែព័ត៌មានគ្រួសារ"),
        "add_member": ("Add a member", "បន្ថែមសមាជិក"),
        "update_member": ("Update a member", "កែប្រែព័ត៌មានសមាជិក"),
        "remove_member": ("Remove a member", "ដកសមាជិកចេញ"),
        "change_head": ("Change the head of household", "ប្តូរមេគ្រួសារ"),
        "move_household": ("Move a household", "ផ្លាស់ទីលំនៅគ្រួសារ"),
        "change_poverty_status": ("Change the poverty status", "ប្តូរស្ថានភាពក្រីក្រ"),
        "enrol": ("Enrol in a programme", "ចុះឈ្មោះក្នុងកម្មវិធី"),
        "exit": ("Exit a programme", "ចាកចេញពីកម្មវិធី"),
    },
    description="What a change request changes.",
)
CHANGE_REQUEST_STATUS = code_list(
    "change-request-statuses",
    ChangeRequestStatus,
    {
        "draft": ("Draft", "សេចក្តីព្រាង"),
        "submitted": ("Submitted", "បានដាក់ស្នើ"),
        "applied": ("Applied", "បានអនុវត្ត"),
        "rejected": ("Rejected", "បានបដិសេធ"),
        "cancelled": ("Cancelled", "បានលុបចោល"),
    },
    description="Where a change request stands.",
)
DUPLICATE_STATUS = code_list(
    "duplicate-statuses",
    DuplicateStatus,
    {
        "suspected": ("Suspected", "សង្ស័យ"),
        "confirmed": ("Confirmed duplicate", "បានបញ្ជាក់ថាស្ទួន"),
        "dismissed": ("Dismissed (not a duplicate)", "បានច្រានចោល (មិនស្ទួន)"),
    },
    description="Where a possible duplicate stands.",
)
DUPLICATE_REASON = code_list(
    "duplicate-reasons",
    DuplicateReason,
    {
        "national_id": ("Same national ID", "អត្តសញ្ញាណប័ណ្ណដូចគ្នា"),
        "phone": ("Same phone number", "លេខទូរស័ព្ទដូចគ្នា"),
        "latin_name_birth_commune": (
            "Same Latin name and birth commune",
            "ឈ្មោះឡាតាំង និងឃុំកំណើតដូចគ្នា",
        ),
        "khmer_name_similarity": ("Similar Khmer name", "ឈ្មោះខ្មែរស្រដៀងគ្នា"),
    },
    description="Why two people may be the same.",
)
IMPORT_STATUS = code_list(
    "import-statuses",
    ImportStatus,
    {
        "uploaded": ("Uploaded", "បានផ្ទុកឡើង"),
        "validating": ("Validating", "កំពុងពិនិត្យ"),
        "validated": ("Validated", "បានពិនិត្យរួច"),
        "committing": ("Committing", "កំពុងរក្សាទុក"),
        "committed": ("Committed", "បានរក្សាទុក"),
        "failed": ("Failed", "បរាជ័យ"),
        "expired": ("Expired", "ផុតកំណត់"),
    },
    description="Where an import stands.",
)
FILE_FORMAT = code_list(
    "file-formats",
    FileFormat,
    {"csv": ("CSV", "CSV"), "xlsx": ("Excel workbook", "ឯកសារ Excel")},
    description="The formats an import takes.",
)
GAZETTEER_LEVEL = code_list(
    "gazetteer-levels",
    Level,
    {
        "province": ("Province or capital", "ខេត្ត ឬរាជធានី"),
        "district": ("District, municipality or khan", "ស្រុក ក្រុង ឬខណ្ឌ"),
        "commune": ("Commune or sangkat", "ឃុំ ឬសង្កាត់"),
        "village": ("Village", "ភូមិ"),
    },
    description="How deep a place sits in the gazetteer.",
    owner="registry",
)
AGE_UNIT = code_list(
    "age-units",
    ("months", "years"),
    {"months": ("Months", "ខែ"), "years": ("Years", "ឆ្នាំ")},
    description="The unit of an age in a programme's eligibility rule.",
    owner="registry",
)
CHANGE_REQUEST_ACTION = code_list(
    "change-request-actions",
    ("submit", "accept_move", "verify"),
    {
        "submit": ("Submit", "ដាក់ស្នើ"),
        "accept_move": ("Accept the move", "ទទួលយកការផ្លាស់ទីលំនៅ"),
        "verify": ("Verify", "ផ្ទៀងផ្ទាត់"),
    },
    description="What a change request waits for next.",
    owner="registry",
)
IMPORT_ISSUE_SEVERITY = code_list(
    "import-issue-severities",
    ("error", "warning"),
    {
        "error": ("Error (row not imported)", "កំហុស (ជួរមិនត្រូវបាននាំចូល)"),
        "warning": ("Warning", "ការព្រមាន"),
    },
    description="How serious an import issue is.",
    owner="registry",
)
MEMBER_REMOVAL_REASON = code_list(
    "member-removal-reasons",
    ("deceased", "moved_out", "error"),
    {
        "deceased": ("Deceased", "បានទទួលមរណភាព"),
        "moved_out": ("Moved out", "បានចាកចេញពីគ្រួសារ"),
        "error": ("Recorded by mistake", "កត់ត្រាដោយច្រឡំ"),
    },
    description="Why a member leaves a household.",
    owner="registry",
)
VERIFICATION_METHOD = code_list(
    "verification-methods",
    ("household_code", "national_id", "latin_name", "khmer_name"),
    {
        "household_code": ("Household code", "លេខកូដគ្រួសារ"),
        "national_id": ("National ID number", "លេខអត្តសញ្ញាណប័ណ្ណ"),
        "latin_name": ("Name in Latin script", "ឈ្មោះជាអក្សរឡាតាំង"),
        "khmer_name": ("Name in Khmer script", "ឈ្មោះជាអក្សរខ្មែរ"),
    },
    description="How a verification request found its match.",
    owner="registry",
)
DCI_ACK_STATUS = code_list(
    "dci-ack-statuses",
    ("ACK", "NACK", "ERR"),
    {
        "ACK": ("Accepted", "បានទទួល"),
        "NACK": ("Not accepted", "មិនបានទទួល"),
        "ERR": ("Error", "កំហុស"),
    },
    description="DCI: whether a request was accepted.",
    owner="registry",
)
DCI_CALLBACK_STATUS = code_list(
    "dci-request-statuses",
    ("rcvd", "pdng", "succ", "rjct"),
    {
        "rcvd": ("Received", "បានទទួល"),
        "pdng": ("Pending", "កំពុងរង់ចាំ"),
        "succ": ("Succeeded", "បានជោគជ័យ"),
        "rjct": ("Rejected", "បានបដិសេធ"),
    },
    description="DCI: where a request stands.",
    owner="registry",
)
DCI_SUBSCRIPTION_STATUS = code_list(
    "dci-subscription-statuses",
    ("subscribe", "unsubscribe"),
    {"subscribe": ("Subscribed", "បានជាវ"), "unsubscribe": ("Unsubscribed", "បានឈប់ជាវ")},
    description="DCI: whether a subscription is live.",
    owner="registry",
)

"""The standard I-SAF indicators, per facility type and catalogue version.

The catalogue is reviewed text, so it lives in code: a new version is a new entry in
`CATALOGUE` (old versions stay, because scorecards name the version they used and keep a copy
of each indicator's wording). Each indicator has a pictogram and a Khmer audio recording so
that participants who cannot read can vote on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.isaf.codes import FacilityType

CURRENT_VERSION = 1


@dataclass(frozen=True)
class Indicator:
    code: str
    facility_type: FacilityType
    version: int
    name_km: str
    name_en: str

    @property
    def pictogram(self) -> str:
        return f"/media/isaf/pictograms/v{self.version}/{self.code.lower()}.svg"

    @property
    def audio(self) -> str:
        return f"/media/isaf/audio/km/v{self.version}/{self.code.lower()}.mp3"


def _indicators(facility_type: FacilityType, prefix: str, items: list[tuple[str, str]]):
    return [
        Indicator(f"{prefix}{n:02d}", facility_type, 1, km, en)
        for n, (km, en) in enumerate(items, start=1)
    ]


_V1 = [
    *_indicators(
        FacilityType.COMMUNE_ADMINISTRATION,
        "CS",
        [
            ("ការបង្ហាញតារាងតម្លៃសេវាជាសាធារណៈ", "Service fees are displayed in public"),
            ("ការផ្តល់សេវាទាន់ពេលវេលា", "Services are delivered on time"),
            ("ឥរិយាបថគួរសមរបស់មន្ត្រី", "Staff are polite to citizens"),
            ("ការផ្សព្វផ្សាយថវិកា និងគម្រោង", "The budget and projects are made public"),
            ("ការចូលរួមរបស់ពលរដ្ឋក្នុងកិច្ចប្រជុំ", "Citizens can take part in council meetings"),
            ("ការដោះស្រាយបណ្តឹង", "Complaints are answered"),
            ("ភាពស្អាតនៃសាលាឃុំ/សង្កាត់", "The commune office is clean and accessible"),
            ("ការចុះបញ្ជីអត្រានុកូលដ្ឋាន", "Civil registration is easy to obtain"),
        ],
    ),
    *_indicators(
        FacilityType.HEALTH_CENTRE,
        "HC",
        [
            ("ម៉ោងបើកបម្រើសេវា", "The health centre opens at the posted hours"),
            ("ការបង្ហាញតារាងតម្លៃសេវា", "Fees are displayed and respected"),
            ("ឥរិយាបថរបស់បុគ្គលិកសុខាភិបាល", "Health staff treat patients with respect"),
            ("ភាពគ្រប់គ្រាន់នៃឱសថ", "Essential medicines are available"),
            ("អនាម័យនៃមណ្ឌលសុខភាព", "The health centre is clean"),
            ("សេវាសម្រាលកូន", "Safe delivery services are available"),
            ("ការទទួលស្គាល់ប័ណ្ណសមធម៌", "IDPoor cardholders are served free of charge"),
            ("រយៈពេលរង់ចាំ", "Waiting times are reasonable"),
        ],
    ),
    *_indicators(
        FacilityType.PRIMARY_SCHOOL,
        "PS",
        [
            ("វត្តមានគ្រូបង្រៀន", "Teachers are present and on time"),
            ("ការមិនយកលុយពីសិស្ស", "No informal fees are asked of pupils"),
            ("អនាម័យ និងបង្គន់", "Toilets and water are available and clean"),
            ("សៀវភៅសិក្សា", "Every pupil has textbooks"),
            ("ការគ្រប់គ្រងថវិកាសាលា", "The school budget is made public"),
            ("ការចូលរួមរបស់គណៈកម្មការទ្រទ្រង់សាលា", "The school support committee meets"),
            ("សុវត្ថិភាពសិស្ស", "Pupils are safe at school"),
            ("អាហារូបករណ៍", "Scholarships reach poor pupils"),
        ],
    ),
    *_indicators(
        FacilityType.KHAN_ADMINISTRATION,
        "KH",
        [
            ("ការផ្តល់សេវាច្រកចេញចូលតែមួយ", "The One Window Service Office serves on time"),
            ("ការបង្ហាញតារាងតម្លៃសេវា", "Service fees are displayed in public"),
            ("ឥរិយាបថគួរសមរបស់មន្ត្រី", "Staff are polite to citizens"),
            ("ការដោះស្រាយបណ្តឹង", "Complaints are answered by the citizen office"),
            ("ការផ្សព្វផ្សាយថវិកា", "The khan budget is made public"),
            ("ការគ្រប់គ្រងសំរាម", "Waste collection works"),
        ],
    ),
]

CATALOGUE: dict[int, tuple[Indicator, ...]] = {1: tuple(_V1)}


def standard(facility_type: str, version: int = CURRENT_VERSION) -> list[Indicator]:
    return [i for i in CATALOGUE.get(version, ()) if i.facility_type == facility_type]


def find(code: str, facility_type: str, version: int = CURRENT_VERSION) -> Indicator | None:
    return next((i for i in standard(facility_type, version) if i.code == code), None)

"""Khmer and English labels of what the reports show.

Stored values are codes (`POOR_1`, `female`); people read labels, in the language of their
`Accept-Language` header (Khmer or English; English when the header names neither).
"""

from __future__ import annotations

from shared.http.language import Language

# (English, Khmer)
POVERTY_LEVELS: dict[str, tuple[str, str]] = {
    "POOR_1": ("Poor level 1 (very poor)", "ក្រីក្រកម្រិត ១ (ក្រីក្រខ្លាំង)"),
    "POOR_2": ("Poor level 2 (poor)", "ក្រីក្រកម្រិត ២ (ក្រីក្រ)"),
    "NOT_POOR": ("Not poor", "មិនក្រីក្រ"),
    "UNASSESSED": ("Not assessed", "មិនទាន់វាយតម្លៃ"),
    "ALL": ("All levels", "គ្រប់កម្រិត"),
}
SEXES: dict[str, tuple[str, str]] = {
    "female": ("Female", "ស្រី"),
    "male": ("Male", "ប្រុស"),
}
TOTAL = ("Total", "សរុប")
COUNTRY = ("Cambodia", "កម្ពុជា")

# Column headings (the CSV header row and `columns` of the JSON).
HEADINGS: dict[str, tuple[str, str]] = {
    "location_code": ("Location code", "លេខកូដទីតាំង"),
    "location_name": ("Location", "ទីតាំង"),
    "poverty_level": ("IDPoor level code", "លេខកូដកម្រិតក្រីក្រ"),
    "poverty_level_label": ("IDPoor level", "កម្រិតក្រីក្រ"),
    "households": ("Households", "គ្រួសារ"),
    "members": ("Members", "សមាជិក"),
    "programme_code": ("Programme code", "លេខកូដកម្មវិធី"),
    "programme_name": ("Programme", "កម្មវិធី"),
    "period": ("Period", "រយៈពេល"),
    "enrolments": ("Enrolments", "ការចុះឈ្មោះ"),
    "benefits": ("Benefit records", "កំណត់ត្រាអត្ថប្រយោជន៍"),
    "amount_khr": ("Amount (riel)", "ចំនួនទឹកប្រាក់ (រៀល)"),
    "proposed": ("Proposed", "បានស្នើ"),
    "enrolled": ("Enrolled", "បានចុះឈ្មោះ"),
    "suspended": ("Suspended", "ផ្អាក"),
    "exited": ("Exited", "បានចាកចេញ"),
    "rejected": ("Rejected", "បានបដិសេធ"),
    "enrolled_in_period": ("Enrolled in the period", "ចុះឈ្មោះក្នុងរយៈពេល"),
    "exited_in_period": ("Exited in the period", "ចាកចេញក្នុងរយៈពេល"),
    "scheduled": ("Scheduled", "បានគ្រោង"),
    "paid": ("Paid", "បានបើកផ្តល់"),
    "paid_amount_khr": ("Paid amount (riel)", "ចំនួនទឹកប្រាក់បានបើកផ្តល់ (រៀល)"),
    "failed": ("Failed", "បរាជ័យ"),
    "returned": ("Returned", "ត្រឡប់វិញ"),
}
ALL_PROGRAMMES = ("All programmes", "គ្រប់កម្មវិធី")
MEMBERS = ("Members", "សមាជិក")
AGED = ("aged", "អាយុ")


def pick(pair: tuple[str, str], language: Language) -> str:
    return pair[1] if language == "km" else pair[0]

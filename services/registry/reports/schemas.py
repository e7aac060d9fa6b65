"""What the reports return: one flat table per report (the CSV is the same table)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class ReportArea(BaseModel):
    """The area a report covers: the caller's, or the sub-area named by `location`."""

    code: str = Field(description="NCDD code; empty for the whole country", examples=["1208"])
    level: str = Field(description="country, province, district or commune")
    name: str


class ReportColumn(BaseModel):
    """A column of `rows`: its key and its heading in the requested language (the CSV header
    row holds the headings, in this order)."""

    key: str
    label: str


# Age groups at the reference date: (key, lowest age, highest age or None for open-ended).
AGE_GROUPS: tuple[tuple[str, int, int | None], ...] = (
    ("0_1", 0, 1),
    ("2_5", 2, 5),
    ("6_14", 6, 14),
    ("15_17", 15, 17),
    ("18_59", 18, 59),
    ("60_plus", 60, None),
)


class HouseholdReportRow(BaseModel):
    """Households and their active members in one location (or the total) at one IDPoor
    level (or `ALL`). Members are counted by sex, by age group and by both."""

    location_code: str = Field(description="a child unit's code, or the area's code on totals")
    location_name: str
    poverty_level: str = Field(description="POOR_1, POOR_2, NOT_POOR, UNASSESSED or ALL")
    poverty_level_label: str
    households: int
    members: int
    members_female: int
    members_male: int
    members_age_0_1: int
    members_age_2_5: int
    members_age_6_14: int
    members_age_15_17: int
    members_age_18_59: int
    members_age_60_plus: int
    female_age_0_1: int
    female_age_2_5: int
    female_age_6_14: int
    female_age_15_17: int
    female_age_18_59: int
    female_age_60_plus: int
    male_age_0_1: int
    male_age_2_5: int
    male_age_6_14: int
    male_age_15_17: int
    male_age_18_59: int
    male_age_60_plus: int


class HouseholdReport(BaseModel):
    area: ReportArea
    breakdown_level: str = Field(description="the level of the rows' locations")
    reference_date: date = Field(description="the date at which ages are computed")
    household_status: list[str]
    language: str
    columns: list[ReportColumn]
    rows: list[HouseholdReportRow] = Field(
        description="per child location, one row per IDPoor level and one for ALL; then the "
        "area's totals (location_code = the area's code) in the same shape"
    )


class ReportTable(BaseModel):
    columns: list[ReportColumn]


class EnrolmentReportRow(BaseModel):
    """Enrolments of households in one location (or the total) in one programme (or `ALL`),
    by their current status, and how many started or ended within the period range."""

    location_code: str
    location_name: str
    programme_code: str = Field(description="a programme's code, or ALL")
    programme_name: str
    enrolments: int
    proposed: int
    enrolled: int
    suspended: int
    exited: int
    rejected: int
    enrolled_in_period: int = Field(description="enrolled on a day within the period range")
    exited_in_period: int = Field(description="exited on a day within the period range")


class BenefitReportRow(BaseModel):
    """Benefit records of one location (or the total), programme (or `ALL`) and month (or
    `ALL` for the whole range): how many, how much in riel (in-kind benefits count but add no
    riel), and their delivery status."""

    location_code: str
    location_name: str
    programme_code: str
    programme_name: str
    period: str = Field(description="YYYY-MM (the month the benefit's period starts), or ALL")
    benefits: int
    amount_khr: int
    scheduled: int
    paid: int
    paid_amount_khr: int
    failed: int
    returned: int


class EnrolmentTable(ReportTable):
    rows: list[EnrolmentReportRow]


class BenefitTable(ReportTable):
    rows: list[BenefitReportRow]


class EnrolmentReport(BaseModel):
    area: ReportArea
    breakdown_level: str
    period_from: str = Field(description="first month of the range, YYYY-MM")
    period_to: str = Field(description="last month of the range, YYYY-MM")
    language: str
    enrolments: EnrolmentTable = Field(
        description="per child location and programme (and ALL programmes), then the area's "
        "totals; enrolment counts are the current state"
    )
    benefits: BenefitTable = Field(
        description="per child location, programme and month of the range, each also over the "
        "whole range (period ALL) and over all programmes, then the area's totals"
    )

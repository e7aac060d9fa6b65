"""Demo households for the local stack: `await seed(database_url)` (idempotent).

Khan Sen Sok, through the registry's own service functions (so history, events and
eligibility are as real): at Sangkat Phnom Penh Thmei a verified IDPoor 1 family with a
child under two, enrolled in the Family Package with October's payment recorded; a verified
family whose equity card expires within 90 days; a household still waiting for the district;
and at Tuek Thla a verified household the Phnom Penh Thmei officer must not see.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from services.registry import roles, workflows
from services.registry.benefits import service as benefits
from services.registry.benefits.schemas import BenefitCreate
from services.registry.enrolments import service as enrolments
from services.registry.households import service as households
from services.registry.households.models import Household
from services.registry.households.schemas import HouseholdCreate
from shared import clock
from shared.db.engine import Database
from shared.principal import Principal
from shared.tiers import Tier

COMMUNE_OFFICERS = {
    "120801": Principal(sub="demo:cs.phnom-penh-thmei", name="Phnom Penh Thmei officer",
                        tier=Tier.CS, admin_code="120801",
                        roles=frozenset({"viewer", roles.OFFICER})),
    "120802": Principal(sub="demo:cs.tuek-thla", name="Tuek Thla officer", tier=Tier.CS,
                        admin_code="120802", roles=frozenset({"viewer", roles.OFFICER})),
}  # fmt: skip
DISTRICT_VERIFIER = Principal(
    sub="demo:dmk.sen-sok",
    name="Sen Sok district officer",
    tier=Tier.DMK,
    admin_code="1208",
    roles=frozenset({"viewer", roles.VERIFIER}),
)


def _member(relationship, sex, born, km, latin, **extra) -> dict:
    (family_km, given_km), (family_latin, given_latin) = km, latin
    return {
        "relationship": relationship,
        "sex": sex,
        "birth_date": born,
        "family_name_km": family_km,
        "given_name_km": given_km,
        "family_name_latin": family_latin,
        "given_name_latin": given_latin,
        **extra,
    }


def _households(today: date) -> list[tuple[str, dict, bool]]:
    """(commune, registration, verify?)"""
    return [
        ("120801", {
            "village_code": "12080102", "address": "Street 1986, house 12",
            "members": [
                _member("head", "female", date(1991, 4, 2), ("សុខ", "ចាន់ថា"), ("Sok", "Chantha"),
                        national_id="010203045", phone="012345678"),
                _member("spouse", "male", date(1988, 9, 17), ("ម៉ៅ", "វណ្ណា"), ("Mao", "Vanna")),
                _member("child", "female", today - timedelta(days=400), ("ម៉ៅ", "សុភា"),
                        ("Mao", "Sophea")),
            ],
            "poverty_status": {"level": "POOR_1", "score": 68, "method": "ON_DEMAND",
                               "assessed_on": today - timedelta(days=200),
                               "valid_until": today + timedelta(days=900),
                               "equity_card_number": "EQ-120801-0001",
                               "vulnerability_categories": ["under_2"]},
        }, True),
        ("120801", {
            "village_code": "12080102", "address": "Street 2004, house 7",
            "members": [
                _member("head", "male", date(1956, 1, 20), ("ជា", "សំណាង"), ("Chea", "Samnang"),
                        disability_severity="severe", disability_card_number="DC-0042"),
                _member("spouse", "female", date(1960, 6, 5), ("លី", "ស្រីមុំ"), ("Ly", "Sreymom")),
            ],
            "poverty_status": {"level": "POOR_2", "score": 52, "method": "ROUND",
                               "round_number": 11, "assessed_on": today - timedelta(days=700),
                               "valid_until": today + timedelta(days=45),
                               "equity_card_number": "EQ-120801-0002",
                               "vulnerability_categories": ["elderly", "disability"]},
        }, True),
        ("120801", {
            "village_code": "12080102", "address": "Near the pagoda",
            "members": [_member("head", "female", date(1979, 11, 30), ("ហេង", "ស្រីនាង"),
                                ("Heng", "Sreyneang"))],
        }, False),
        ("120802", {
            "village_code": "12080204", "address": "Tuek Thla market lane",
            "members": [_member("head", "male", date(1983, 2, 14), ("គឹម", "ដារ៉ា"),
                                ("Kim", "Dara"))],
            "poverty_status": {"level": "POOR_2", "score": 49, "method": "ON_DEMAND",
                               "assessed_on": today - timedelta(days=30),
                               "valid_until": today + timedelta(days=1000)},
        }, True),
    ]  # fmt: skip


async def seed(database_url: str) -> list[str]:
    database = Database(database_url, pool_size=2, application_name="registry-demo")
    lines: list[str] = []
    try:
        async with database.transaction() as session:
            if await session.scalar(select(func.count()).select_from(Household)):
                return lines
            today = clock.today()
            created = []
            for commune, registration, verify in _households(today):
                household = await workflows.register_household(
                    session,
                    principal=COMMUNE_OFFICERS[commune],
                    data=HouseholdCreate.model_validate(registration),
                )
                if verify:
                    await households.verify_household(
                        session, principal=DISTRICT_VERIFIER, household=household
                    )
                created.append(household)
            family = created[0]
            enrolment = await enrolments.propose_enrolment(
                session,
                principal=COMMUNE_OFFICERS["120801"],
                household_id=family.id,
                programme_code="FAMILY_PACKAGE",
            )
            await enrolments.approve_enrolment(
                session, principal=DISTRICT_VERIFIER, enrolment_id=enrolment.id
            )
            last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
            await benefits.record_benefit(
                session,
                principal=COMMUNE_OFFICERS["120801"],
                enrolment_id=enrolment.id,
                data=BenefitCreate(
                    period=last_month.strftime("%Y-%m"),
                    amount_khr=80_000,
                    channel="cash_wing",
                    status="paid",
                    delivered_on=last_month + timedelta(days=14),
                ),
            )
            lines.append(
                f"registry: households {', '.join(h.code for h in created)} "
                f"(the first enrolled in FAMILY_PACKAGE with a paid benefit; "
                f"{created[2].code} awaits the district; {created[3].code} is in Tuek Thla)"
            )
    finally:
        await database.dispose()
    return lines

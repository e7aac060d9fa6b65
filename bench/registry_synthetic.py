"""Realistic synthetic households for the registry's import format (one row per member).

    python -m bench.registry_synthetic --members 100000 --out households.csv [--area 12]

Real village codes from the gazetteer (the whole country, or under `--area`); common Khmer
family and given names with their usual Latin spellings; a head with a spouse, children,
sometimes a parent, grandchildren or other relatives, at plausible ages (households of 4.3
people on average, as in the 2019 census); IDPoor levels in realistic shares (about 8 %
POOR_1 and 12 % POOR_2, the rest assessed not poor or never assessed) with scores, rounds,
dates and equity cards; national IDs for most adults, phones for most heads; disabilities
(~3 % of people) and pregnancies. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from services.registry.imports.parsing import COLUMNS
from shared.gazetteer import Level, get_gazetteer

FAMILY_NAMES = [
    ("សុខ", "Sok"), ("ចាន់", "Chan"), ("ហេង", "Heng"), ("លី", "Ly"), ("ម៉ៅ", "Mao"),
    ("កែវ", "Keo"), ("ជា", "Chea"), ("ឈឹម", "Chhim"), ("ស៊ុន", "Sun"), ("ពៅ", "Pov"),
    ("ញឹម", "Nhim"), ("សេង", "Seng"), ("យិន", "Yin"), ("ហ៊ុន", "Hun"), ("ទេព", "Tep"),
    ("មាស", "Meas"), ("ស៊ិន", "Sin"), ("ឡុង", "Long"), ("ណុប", "Nop"), ("ប៉ុល", "Pol"),
    ("អ៊ុំ", "Um"), ("ខៀវ", "Khiev"), ("រស់", "Ros"), ("ពេជ្រ", "Pich"), ("សំ", "Sam"),
    ("ឃុន", "Khun"), ("ធន់", "Thon"), ("វង្ស", "Vong"), ("ស្រេង", "Sreng"), ("អ៊ុក", "Uk"),
]  # fmt: skip
FEMALE_NAMES = [
    ("ចាន់ថា", "Chantha"), ("ស្រីនាង", "Sreyneang"), ("សុភា", "Sophea"), ("ចន្ទា", "Chanda"),
    ("ពិសី", "Pisey"), ("ធីតា", "Thida"), ("សុខា", "Sokha"), ("ស្រីពៅ", "Sreypov"),
    ("រតនា", "Rathana"), ("ដាវី", "Davy"), ("បុប្ផា", "Bopha"), ("ម៉ាលី", "Maly"),
    ("សុគន្ធា", "Sokunthea"), ("វណ្ណី", "Vanny"), ("សុវណ្ណារី", "Sovannary"),
    ("លក្ខិណា", "Leakhena"), ("ស្រីល័ក្ខ", "Sreyleak"), ("ច័ន្ទមុនី", "Chanmony"),
    ("ស្រីម៉ៅ", "Sreymao"), ("សុធា", "Sothea"), ("កញ្ញា", "Kanha"), ("និមល", "Nimol"),
]  # fmt: skip
MALE_NAMES = [
    ("វណ្ណា", "Vanna"), ("ដារ៉ា", "Dara"), ("សុភ័ក្រ", "Sopheak"), ("វិចិត្រ", "Vichet"),
    ("ប៊ុនធឿន", "Bunthoeun"), ("សារ៉ាន", "Saran"), ("មករា", "Makara"), ("រិទ្ធី", "Rithy"),
    ("សំណាង", "Samnang"), ("វិសាល", "Visal"), ("ពិសិដ្ឋ", "Piseth"), ("សុវណ្ណ", "Sovann"),
    ("ចំរើន", "Chamroeun"), ("សុផល", "Sophal"), ("ធារ៉ា", "Theara"), ("កុសល", "Kosal"),
    ("បូរ៉ា", "Bora"), ("វុទ្ធី", "Vuthy"), ("សម្បត្តិ", "Sambath"), ("ពន្លក", "Ponlok"),
    ("សុខុម", "Sokhom"), ("ហុង", "Hong"),
]  # fmt: skip
PHONE_PREFIXES = ["12", "15", "17", "77", "78", "85", "89", "92", "96", "97", "98", "99", "16",
                  "69", "70", "81", "86", "87", "88", "93", "10", "11", "61", "76"]  # fmt: skip
# Household sizes 1..9 and their weights: mean 4.3.
SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9]
SIZE_WEIGHTS = [7, 11, 17, 21, 18, 12, 8, 4, 2]
LEVELS = ["POOR_1", "POOR_2", "NOT_POOR", "UNASSESSED"]
LEVEL_WEIGHTS = [8, 12, 45, 35]


class HouseholdGenerator:
    def __init__(self, *, seed: int = 2026, area: str = "", today: date | None = None) -> None:
        self.random = random.Random(seed)
        gazetteer = get_gazetteer()
        self.villages = [u.code for u in gazetteer.descendants(area, Level.VILLAGE)]
        if not self.villages:
            raise ValueError(f"no villages under {area!r}")
        self.today = today or date.today()
        self.households = 0
        self.people = 0

    def _birth(self, age: int) -> date:
        # A day in the year before the birthday that makes `age` today (never in the future).
        return self.today - timedelta(days=int(age * 365.25) + self.random.randrange(365))

    def _name(self, sex: str) -> tuple[str, str]:
        return self.random.choice(FEMALE_NAMES if sex == "female" else MALE_NAMES)

    def household(self) -> list[list[str]]:
        """The rows of one household."""
        rnd = self.random
        self.households += 1
        number = self.households
        village = rnd.choice(self.villages)
        size = rnd.choices(SIZES, SIZE_WEIGHTS)[0]
        family_km, family_latin = rnd.choice(FAMILY_NAMES)
        head_sex = "female" if rnd.random() < 0.25 else "male"
        head_age = min(85, max(19, int(rnd.gauss(44, 13))))
        people: list[tuple[str, str, int]] = [("head", head_sex, head_age)]
        if size >= 2 and head_age < 75 and rnd.random() < 0.82:
            spouse_sex = "female" if head_sex == "male" else "male"
            people.append(("spouse", spouse_sex, max(18, head_age + rnd.randint(-8, 4))))
        while len(people) < size:
            roll = rnd.random()
            if roll < 0.08 and head_age < 62:
                people.append(
                    ("parent", rnd.choice(("female", "male")), head_age + rnd.randint(20, 32))
                )
            elif roll < 0.18 and head_age >= 45:
                people.append(
                    (
                        "grandchild",
                        rnd.choice(("female", "male")),
                        rnd.randint(0, min(17, head_age - 38)),
                    )
                )
            elif roll < 0.24:
                people.append(
                    (
                        rnd.choice(("sibling", "other_relative", "other_relative", "non_relative")),
                        rnd.choice(("female", "male")),
                        max(1, head_age + rnd.randint(-15, 10)),
                    )
                )
            else:
                low = max(0, head_age - 45)
                age = rnd.randint(low, max(low, head_age - 17))
                people.append(("child", rnd.choice(("female", "male")), age))
        household_columns = self._household_columns(number, village, people)
        rows = []
        for index, (relationship, sex, age) in enumerate(people):
            columns = household_columns if index == 0 else None
            rows.append(
                self._member(number, village, family_km, family_latin, relationship, sex,
                             min(age, 98), columns)
            )  # fmt: skip
        self.people += len(rows)
        return rows

    def _household_columns(self, number, village, people) -> list[str]:
        rnd = self.random
        address = (
            f"House {rnd.randint(1, 400)}, Group {rnd.randint(1, 12)}" if rnd.random() < 0.7 else ""
        )
        level = rnd.choices(LEVELS, LEVEL_WEIGHTS)[0]
        if level == "UNASSESSED":
            return [address] + [""] * 8
        on_demand = rnd.random() < 0.3
        assessed = self.today - timedelta(days=rnd.randint(30, 900))
        score = {
            "POOR_1": rnd.randint(59, 80),
            "POOR_2": rnd.randint(45, 58),
            "NOT_POOR": rnd.randint(5, 44),
        }[level]
        poor = level in ("POOR_1", "POOR_2")
        categories = []
        if poor and on_demand:
            if people[0][1] == "female":
                categories.append("female_headed")
            if any(age >= 60 for _, _, age in people):
                categories.append("elderly")
            if any(age < 2 for _, _, age in people):
                categories.append("under_2")
        return [
            address,
            level,
            str(score),
            "ON_DEMAND" if on_demand else "ROUND",
            "" if on_demand else str(rnd.randint(8, 11)),
            assessed.isoformat(),
            (assessed + timedelta(days=3 * 365)).isoformat() if poor else "",
            f"EC{village}{number % 100000:05d}" if poor else "",
            ";".join(categories),
        ]

    def _member(self, number, village, family_km, family_latin, relationship, sex, age,
                household_columns) -> list[str]:  # fmt: skip
        rnd = self.random
        given_km, given_latin = self._name(sex)
        birth = self._birth(age)
        self.people_seen = getattr(self, "people_seen", 0) + 1
        serial = self.people_seen
        national_id = ""
        if age >= 18 and rnd.random() < 0.55:
            # A bijection of the serial: unique 9-digit numbers, no collisions to flag.
            national_id = f"{100_000_000 + serial * 7_919 % 900_000_000}"
        phone = ""
        if (relationship == "head" and rnd.random() < 0.6) or (age >= 18 and rnd.random() < 0.1):
            phone = f"0{rnd.choice(PHONE_PREFIXES)}{rnd.randint(100000, 9999999)}"
        severity = card = ""
        if rnd.random() < (0.02 if age < 60 else 0.09):
            severity = rnd.choices(("mild", "medium", "severe"), (5, 3, 2))[0]
            card = f"DC{serial:08d}" if rnd.random() < 0.6 else ""
        pregnant, due = "no", ""
        if sex == "female" and 18 <= age <= 42 and rnd.random() < 0.07:
            pregnant, due = "yes", (self.today + timedelta(days=rnd.randint(10, 270))).isoformat()
        school = ""
        if 3 <= age <= 22:
            school = self._school(age)
        estimated = "yes" if age >= 50 and rnd.random() < 0.15 else "no"
        household = household_columns or [""] * 9
        return [
            f"HH{number:08d}", village, *household, relationship, family_km, given_km,
            family_latin, given_latin, sex, birth.isoformat(), estimated, national_id, phone,
            severity, card, pregnant, due, school,
        ]  # fmt: skip

    def _school(self, age: int) -> str:
        roll = self.random.random()
        if age <= 5:
            return "pre_school" if roll < 0.4 else "not_enrolled"
        if age <= 11:
            return "primary" if roll < 0.92 else "not_enrolled"
        if age <= 14:
            return "lower_secondary" if roll < 0.75 else "not_enrolled"
        if age <= 17:
            return "upper_secondary" if roll < 0.55 else "not_enrolled"
        return "tertiary" if roll < 0.12 else ""

    def rows(self, members: int) -> Iterator[list[str]]:
        """Whole households until at least `members` rows."""
        while self.people < members:
            yield from self.household()


def write_csv(path: Path, members: int, *, seed: int = 2026, area: str = "") -> int:
    generator = HouseholdGenerator(seed=seed, area=area)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(generator.rows(members))
    return generator.people


def write_xlsx(path: Path, members: int, *, seed: int = 2026, area: str = "") -> int:
    import openpyxl

    generator = HouseholdGenerator(seed=seed, area=area)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("households")
    sheet.append(list(COLUMNS))
    for row in generator.rows(members):
        sheet.append(row)
    workbook.save(path)
    return generator.people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--out", required=True, help="a .csv or .xlsx path")
    parser.add_argument("--area", default="", help="villages under this admin code only")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    out = Path(args.out)
    write = write_xlsx if out.suffix.lower() == ".xlsx" else write_csv
    people = write(out, args.members, seed=args.seed, area=args.area)
    print(f"{out}: {people:,} members")


if __name__ == "__main__":
    main()

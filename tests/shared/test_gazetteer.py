"""The gazetteer: lookups, code normalisation, request-schema types and the compiled file."""

import dataclasses

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from shared.gazetteer import (
    DATA_DIR,
    TSV_PATH,
    AdminUnit,
    CommuneCode,
    DistrictCode,
    Gazetteer,
    InvalidLocationCode,
    Level,
    LocationCode,
    ProvinceCode,
    VillageCode,
    get_gazetteer,
    normalise_code,
)
from shared.tiers import Tier

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

KHMER = range(0x1780, 0x1800)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return get_gazetteer()


@pytest.mark.parametrize(
    ("level", "expected"),
    [(Level.PROVINCE, 25), (Level.DISTRICT, 210), (Level.COMMUNE, 1652), (Level.VILLAGE, 14578)],
)
def test_count_per_level(gazetteer: Gazetteer, level: Level, expected: int) -> None:
    assert gazetteer.count(level) == expected
    assert len(gazetteer.descendants("", level)) == expected


def test_total_units(gazetteer: Gazetteer) -> None:
    assert len(gazetteer) == 25 + 210 + 1652 + 14578


def test_get_gazetteer_loads_once() -> None:
    assert get_gazetteer() is get_gazetteer()


def test_sen_sok_is_a_khan_of_phnom_penh(gazetteer: Gazetteer) -> None:
    sen_sok = gazetteer.require("1208")
    assert sen_sok == AdminUnit("1208", Level.DISTRICT, "សែនសុខ", "Sen Sok", "ខណ្ឌ", "Section")
    assert sen_sok.parent_code == "12"
    assert sen_sok.tier is Tier.DMK
    phnom_penh = gazetteer.require(sen_sok.parent_code)
    assert (phnom_penh.name_en, phnom_penh.name_km) == ("Phnom Penh", "ភ្នំពេញ")
    assert (phnom_penh.unit_type_en, phnom_penh.unit_type_km) == ("Capital", "រាជធានី")
    assert phnom_penh.level is Level.PROVINCE
    assert phnom_penh.parent_code is None
    assert phnom_penh.tier is Tier.CP


def test_sangkats_of_sen_sok(gazetteer: Gazetteer) -> None:
    sangkats = gazetteer.children("1208")
    assert [(unit.code, unit.name_en) for unit in sangkats] == [
        ("120801", "Phnom Penh Thmei"),
        ("120802", "Tuek Thla"),
        ("120803", "Khmuonh"),
        ("120807", "Krang Thnong"),
        ("120808", "Ou Baek K'am"),
        ("120809", "Kouk Khleang"),
    ]
    assert {(unit.level, unit.tier, unit.unit_type_en, unit.unit_type_km) for unit in sangkats} == {
        (Level.COMMUNE, Tier.CS, "Quarter", "សង្កាត់")
    }
    assert gazetteer.descendants("1208", Level.COMMUNE) == sangkats


def test_chain_of_a_village(gazetteer: Gazetteer) -> None:
    chain = gazetteer.chain("12080102")
    assert [(unit.code, unit.level, unit.name_en) for unit in chain] == [
        ("12", Level.PROVINCE, "Phnom Penh"),
        ("1208", Level.DISTRICT, "Sen Sok"),
        ("120801", Level.COMMUNE, "Phnom Penh Thmei"),
        ("12080102", Level.VILLAGE, "Poung Peay"),
    ]
    village = chain[-1]
    assert village.name_km == "ពោងពាយ"
    assert village.parent_code == "120801"
    assert village.tier is None
    assert gazetteer.chain("12") == [chain[0]]


def test_every_unit_has_a_khmer_name(gazetteer: Gazetteer) -> None:
    for level in Level:
        for unit in gazetteer.descendants("", level):
            assert any(ord(char) in KHMER for char in unit.name_km), unit
            assert any(ord(char) in KHMER for char in unit.unit_type_km), unit


def test_provinces_are_the_children_of_the_country(gazetteer: Gazetteer) -> None:
    provinces = gazetteer.provinces()
    assert provinces == gazetteer.children("")
    assert [unit.code for unit in provinces] == [f"{number:02d}" for number in range(1, 26)]
    assert provinces[0].name_en == "Banteay Meanchey"
    assert provinces[-1].name_en == "Tboung Khmum"


def test_descendants_of_a_province(gazetteer: Gazetteer) -> None:
    communes = gazetteer.descendants("12", Level.COMMUNE)
    assert len(communes) == 105
    assert all(unit.code.startswith("12") and unit.level is Level.COMMUNE for unit in communes)
    assert [unit.code for unit in communes] == sorted(unit.code for unit in communes)
    # The range ends at the province boundary: none of Preah Vihear (13) leaks in.
    assert len(gazetteer.descendants("12", Level.DISTRICT)) == 14
    assert len(gazetteer.descendants("12", Level.VILLAGE)) == 953


def test_descendants_must_lie_below_the_code(gazetteer: Gazetteer) -> None:
    with pytest.raises(ValueError, match="no province below district '1208'"):
        gazetteer.descendants("1208", Level.PROVINCE)
    with pytest.raises(ValueError, match="no district below district '1208'"):
        gazetteer.descendants("1208", Level.DISTRICT)


def test_children_of_a_village_and_of_unknown_codes(gazetteer: Gazetteer) -> None:
    assert gazetteer.children("12080102") == []
    with pytest.raises(InvalidLocationCode, match="'1299' is not a district"):
        gazetteer.children("1299")


def test_get_and_contains(gazetteer: Gazetteer) -> None:
    assert gazetteer.get("120801") is gazetteer.get("120801")
    assert gazetteer.get("120801").name_en == "Phnom Penh Thmei"
    assert "120801" in gazetteer
    for missing in ["120899", "1", "301", " 1208", "12x", "", "1208010212"]:
        assert gazetteer.get(missing) is None
        assert missing not in gazetteer
    assert 12 not in gazetteer
    assert gazetteer.get(1208) is None  # type: ignore[arg-type]


def test_admin_unit_is_immutable(gazetteer: Gazetteer) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        gazetteer.require("12").name_en = "Elsewhere"  # type: ignore[misc]


def test_level_code_lengths() -> None:
    assert [(level.value, level.code_length) for level in Level] == [
        ("province", 2),
        ("district", 4),
        ("commune", 6),
        ("village", 8),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", "12"),
        ("1208", "1208"),
        ("01020101", "01020101"),
        ("301", "0301"),
        ("1", "01"),
        ("10201", "010201"),
        (1020101, "01020101"),
        (12, "12"),
        (" 1208\t", "1208"),
        ("\n120801 ", "120801"),
    ],
)
def test_normalise_code(raw: str | int, expected: str) -> None:
    assert normalise_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("12x", "'12x' must be 2, 4, 6 or 8 digits"),
        ("12 08", "'12 08' must be 2, 4, 6 or 8 digits"),
        ("", "'' must be 2, 4, 6 or 8 digits"),
        ("   ", "'   ' must be 2, 4, 6 or 8 digits"),
        ("-12", "'-12' must be 2, 4, 6 or 8 digits"),
        (-12, "'-12' must be 2, 4, 6 or 8 digits"),
        ("12.0", "'12.0' must be 2, 4, 6 or 8 digits"),
        ("១២០៨", "'១២០៨' must be 2, 4, 6 or 8 digits"),
        ("123456789", "'123456789' must be 2, 4, 6 or 8 digits"),
        ("1234567890", "'1234567890' must be 2, 4, 6 or 8 digits"),
        ("9" * 40, "'" + "9" * 19 + "…' must be 2, 4, 6 or 8 digits"),
    ],
)
def test_normalise_code_rejects(raw: str | int, message: str) -> None:
    with pytest.raises(InvalidLocationCode) as caught:
        normalise_code(raw)
    assert str(caught.value) == message


def test_normalise_code_rejects_other_types() -> None:
    for raw in [True, 12.0, None, b"12"]:
        with pytest.raises(TypeError, match="must be a str or int"):
            normalise_code(raw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "level", "message"),
    [
        ("12x", None, "'12x' must be 2, 4, 6 or 8 digits"),
        ("123", None, "'123' must be 2, 4, 6 or 8 digits"),
        ("301", Level.DISTRICT, "'301' must be 2, 4, 6 or 8 digits"),
        ("1208010203", None, "'1208010203' must be 2, 4, 6 or 8 digits"),
        ("", None, "'' must be 2, 4, 6 or 8 digits"),
        ("99", None, "'99' is not a province in the NCDD gazetteer"),
        ("1299", None, "'1299' is not a district in the NCDD gazetteer"),
        ("120899", None, "'120899' is not a commune in the NCDD gazetteer"),
        ("120899", Level.COMMUNE, "'120899' is not a commune in the NCDD gazetteer"),
        ("12080199", None, "'12080199' is not a village in the NCDD gazetteer"),
        ("1208", Level.VILLAGE, "'1208' is a district; a village code (8 digits) is required"),
        ("120801", Level.PROVINCE, "'120801' is a commune; a province code (2 digits) is required"),
        ("1299", Level.VILLAGE, "'1299' has 4 digits; a village code (8 digits) is required"),
        (
            "12",
            {Level.VILLAGE, Level.COMMUNE},
            "'12' is a province; a commune or village code (6 or 8 digits) is required",
        ),
        (
            "12",
            {Level.DISTRICT, Level.COMMUNE, Level.VILLAGE},
            "'12' is a province; a district, commune or village code (4, 6 or 8 digits) "
            "is required",
        ),
    ],
)
def test_require_explains_why_a_code_is_refused(
    gazetteer: Gazetteer, code: str, level: Level | set[Level] | None, message: str
) -> None:
    with pytest.raises(InvalidLocationCode) as caught:
        gazetteer.require(code, level=level)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_require_returns_the_unit_at_an_allowed_level(gazetteer: Gazetteer) -> None:
    assert gazetteer.require("120801", level=Level.COMMUNE).name_en == "Phnom Penh Thmei"
    assert gazetteer.require("1208", level={Level.DISTRICT, Level.COMMUNE}).code == "1208"
    assert gazetteer.require("12080102").level is Level.VILLAGE
    with pytest.raises(ValueError, match="at least one Level"):
        gazetteer.require("12", level=set())


class Household(BaseModel):
    village: VillageCode
    commune: CommuneCode | None = None
    district: DistrictCode | None = None
    province: ProvinceCode | None = None
    area: LocationCode | None = None


def test_code_types_accept_and_normalise() -> None:
    household = Household(
        village=" 1020101 ", commune=120801, district="301", province=3, area="1208"
    )
    assert household.model_dump() == {
        "village": "01020101",
        "commune": "120801",
        "district": "0301",
        "province": "03",
        "area": "1208",
    }
    assert Household.model_validate_json('{"village": "12080102"}').village == "12080102"
    for code in ["12", "1208", "120801", "12080102"]:
        assert Household(village="12080102", area=code).area == code


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("village", "1208", "'1208' is a district; a village code (8 digits) is required"),
        ("village", "12080199", "'12080199' is not a village in the NCDD gazetteer"),
        ("commune", "120899", "'120899' is not a commune in the NCDD gazetteer"),
        ("commune", "12x", "'12x' must be 2, 4, 6 or 8 digits"),
        ("district", "12", "'12' is a province; a district code (4 digits) is required"),
        ("province", "1208", "'1208' is a district; a province code (2 digits) is required"),
        ("province", "", "'' must be 2, 4, 6 or 8 digits"),
        ("area", "99", "'99' is not a province in the NCDD gazetteer"),
        ("area", "123456789", "'123456789' must be 2, 4, 6 or 8 digits"),
    ],
)
def test_code_types_reject_naming_the_field(field: str, value: str, message: str) -> None:
    data = {"village": "12080102", field: value}
    with pytest.raises(ValidationError) as caught:
        Household.model_validate(data)
    [error] = caught.value.errors(include_url=False)
    assert error["loc"] == (field,)
    assert error["type"] == "location_code"
    assert error["msg"] == message


def test_code_types_reject_non_strings_as_pydantic_does() -> None:
    for value in [None, 12.5, True, ["12"]]:
        with pytest.raises(ValidationError) as caught:
            Household.model_validate({"village": value})
        [error] = caught.value.errors(include_url=False)
        assert (error["loc"], error["type"]) == (("village",), "string_type")


def test_code_types_show_their_pattern_in_json_schema() -> None:
    properties = Household.model_json_schema()["properties"]
    assert properties["village"]["pattern"] == "^[0-9]{8}$"
    assert properties["village"]["type"] == "string"
    commune = properties["commune"]["anyOf"][0]
    assert (commune["type"], commune["pattern"]) == ("string", "^[0-9]{6}$")
    assert properties["district"]["anyOf"][0]["pattern"] == "^[0-9]{4}$"
    assert properties["province"]["anyOf"][0]["pattern"] == "^[0-9]{2}$"
    assert properties["area"]["anyOf"][0]["pattern"] == "^[0-9]{2}([0-9]{2}){0,3}$"
    assert "village" in properties["village"]["description"]


def _clean(text: str) -> str:
    # Written out here rather than imported from build, so the test checks build.
    return " ".join(text.replace("\u200b", "").replace("\ufeff", "").split())


def test_compiled_tsv_matches_the_yaml() -> None:
    expected = []
    for source in ["provinces", "districts", "communes", "villages"]:
        with (DATA_DIR / f"{source}.yml").open(encoding="utf-8") as file:
            units = yaml.load(file, Loader=SafeLoader)[source]
        for code, unit in units.items():
            name, unit_type = unit["name"], unit["administrative_unit"]
            fields = [name["km"], name["latin"], unit_type["km"], unit_type["en"]]
            expected.append("\t".join([code, *map(_clean, fields)]) + "\n")
    expected.sort()

    assert TSV_PATH.read_text(encoding="utf-8") == "".join(expected)
    assert (DATA_DIR / "LICENSE-pumi.txt").read_text(encoding="utf-8").startswith("The MIT")

"""DCI sync search: identifiers, expressions, predicates, the standard's statuses and reason
codes, what personal data leaves, and who may ask."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from services.registry.dci.models import DciTransaction
from tests.harness import CS_PHNOM_PENH_THMEI, NATIONAL, client_for
from tests.registry.dci_support import (
    CLIENT_WITHOUT_SCOPE,
    DCI_CLIENT,
    DCI_CLIENT_IN_PHNOM_PENH,
    by_household_id,
    codes_of,
    expression,
    header,
    search_item,
    search_message,
)
from tests.registry.factories import (
    VILLAGE_BANTEAY_MEANCHEY,
    VILLAGE_PHNOM_PENH_THMEI,
    VILLAGE_TUEK_THLA,
    RegistryRows,
    make_household,
    member,
)
from tests.registry.programme_support import ON_THE_DAY

SYNC = "/dci/registry/sync/search"

# The households' members are born on fixed dates ("age < 2" finds Vichet, born February
# 2025): the registry answers on a clock standing on the day those ages describe.
pytestmark = ON_THE_DAY


@pytest.fixture
async def households(infrastructure, clean_databases):
    """Three active households and a pending one, in three areas."""
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        poor = await make_household(
            session,
            village_code=VILLAGE_PHNOM_PENH_THMEI,
            poverty_level="POOR_1",
            poverty_score=62,
            members=[
                member(national_id="010203040", phone="012345678"),
                member(
                    relationship="child",
                    sex="male",
                    birth_date=date(2025, 2, 1),
                    given_name_km="វិចិត្រ",
                    given_name_latin="Vichet",
                    national_id="999888777",
                ),
            ],
        )
        elderly = await make_household(
            session,
            village_code=VILLAGE_TUEK_THLA,
            poverty_level="POOR_2",
            poverty_score=45,
            members=[
                member(sex="male", birth_date=date(1950, 1, 1), given_name_latin="Dara"),
                member(
                    relationship="spouse", birth_date=date(1952, 6, 1), disability_severity="severe"
                ),
            ],
        )
        far = await make_household(
            session,
            village_code=VILLAGE_BANTEAY_MEANCHEY,
            poverty_level="NOT_POOR",
            poverty_score=20,
        )
        pending = await make_household(
            session, status="pending_verification", poverty_level="POOR_1", poverty_score=70
        )
    return {"poor": poor, "elderly": elderly, "far": far, "pending": pending}


async def search(app, *items, principal=DCI_CLIENT, **header_fields):
    async with client_for(app, principal, audience="registry") as client:
        response = await client.post(SYNC, json=search_message(*items, **header_fields))
    return response


async def transactions(app) -> int:
    async with app.state.database.transaction() as session:
        return await session.scalar(select(func.count()).select_from(DciTransaction))


# -- identifiers -----------------------------------------------------------------------------


async def test_search_by_household_id_finds_the_household_as_a_dci_group(app, households):
    poor = households["poor"]
    response = await search(app, by_household_id(poor.code, reference_id="ref-1"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["header"]["action"] == "on-search"
    assert body["header"]["status"] == "succ"
    assert body["header"]["receiver_id"] == "moh-health-equity"
    item = body["message"]["search_response"][0]
    assert item["reference_id"] == "ref-1"
    assert item["status"] == "succ"
    assert item["pagination"] == {"page_size": 100, "page_number": 1, "total_count": 1}
    assert item["data"]["reg_record_type"] == "Group"
    [group] = item["data"]["reg_records"]
    assert group["@type"] == "Group"
    assert group["group_identifier"] == [
        {"@type": "Identifier", "identifier_type": "HOUSEHOLD_ID", "identifier_value": poor.code}
    ]
    assert group["poverty_score"] == 62
    assert group["group_size"] == 2
    assert group["place"]["location_code"] == VILLAGE_PHNOM_PENH_THMEI
    attributes = {a["name"]: a["value"] for a in group["additional_attributes"]}
    assert attributes["poverty_level"] == "POOR_1"
    assert attributes["commune_code"] == "120801"
    head = group["group_head_info"]
    assert head["demographic_info"]["name"] == {
        "@type": "Name",
        "surname": "Sok",
        "given_name": "Chantha",
    }
    assert head["relationship_head"] == "self"
    # Searching by household id discloses no national ID and no phone number.
    text = response.text
    assert "010203040" not in text and "999888777" not in text and "012345678" not in text
    assert body["message"]["correlation_id"]
    assert await transactions(app) == 1  # the machine read is on record


async def test_an_unknown_or_pending_household_id_finds_nothing(app, households):
    response = await search(
        app, by_household_id("HH999999990"), by_household_id(households["pending"].code)
    )
    items = response.json()["message"]["search_response"]
    assert [i["status"] for i in items] == ["succ", "succ"]
    assert [i["data"]["reg_records"] for i in items] == [[], []]


async def test_search_by_nin_discloses_only_that_members_national_id(app, households):
    response = await search(app, search_item("idtype-value", {"type": "NIN", "value": "010203040"}))
    item = response.json()["message"]["search_response"][0]
    assert codes_of(item) == [households["poor"].code]
    members = item["data"]["reg_records"][0]["member_list"]
    nins = [[i["identifier_value"] for i in m["demographic_info"]["identifier"]] for m in members]
    assert sorted(nins) == [[], ["010203040"]]
    assert "999888777" not in response.text  # the child's NIN stays in the registry
    assert "012345678" not in response.text


async def test_member_records_answer_member_searches(app, households):
    response = await search(
        app,
        search_item(
            "idtype-value", {"type": "NIN", "value": "999888777"}, response_entity="Member"
        ),
    )
    item = response.json()["message"]["search_response"][0]
    assert item["data"]["reg_record_type"] == "Member"
    [record] = item["data"]["reg_records"]
    assert record["@type"] == "Member"
    assert record["demographic_info"]["name"]["given_name"] == "Vichet"
    attributes = {a["name"]: a["value"] for a in record["additional_attributes"]}
    assert attributes["household_id"] == households["poor"].code


# -- expression and predicate ---------------------------------------------------------------


async def test_expression_query_on_poverty_and_location(app, households):
    response = await search(
        app,
        expression(
            {
                "$and": [
                    {"poverty_level": {"$in": ["POOR_1", "POOR_2"]}},
                    {"location_code": {"$eq": "1208"}},
                ]
            }
        ),
        expression(
            {"poverty_score": {"$lt": 50}},
            sort=[{"attribute_name": "poverty_score", "sort_order": "desc"}],
        ),
        expression(
            {"$or": [{"group_size": {"$gte": 2}}, {"location_code": "01"}]},
            sort=[{"attribute_name": "household_id", "sort_order": "asc"}],
        ),
    )
    poor_in_sen_sok, below_50, big_or_far = response.json()["message"]["search_response"]
    assert sorted(codes_of(poor_in_sen_sok)) == sorted(
        [households["poor"].code, households["elderly"].code]
    )
    assert codes_of(below_50) == [households["elderly"].code, households["far"].code]
    assert codes_of(big_or_far) == sorted(
        [households["poor"].code, households["elderly"].code, households["far"].code]
    )


async def test_member_conditions_hold_for_one_member(app, households):
    response = await search(
        app,
        # one woman over 60 with a disability: the elderly household's spouse
        expression({"sex": "female", "age": {"$gt": 60}, "is_disabled": True}),
        # a man over 60 who is disabled: nobody (the disabled one is the woman)
        expression(
            {
                "$and": [
                    {"sex": {"$eq": "male"}},
                    {"age": {"$gt": 60}},
                    {"is_disabled": {"$eq": True}},
                ]
            }
        ),
        # a child under 2, as Member records
        expression({"age": {"$lt": 2}}, collection="Member"),
    )
    disabled_elder, nobody, infants = response.json()["message"]["search_response"]
    assert codes_of(disabled_elder) == [households["elderly"].code]
    assert codes_of(nobody) == []
    assert infants["data"]["reg_record_type"] == "Member"
    assert [
        r["demographic_info"]["name"]["given_name"] for r in infants["data"]["reg_records"]
    ] == ["Vichet"]


async def test_predicate_query_with_conditions(app, households):
    query = [
        {
            "seq_num": 1,
            "expression1": {
                "attribute_name": "poverty_score",
                "operator": "ge",
                "attribute_value": "40",
            },
            "condition": "and",
            "expression2": {"attribute_name": "age", "operator": "lt", "attribute_value": 3},
        },
        {
            "seq_num": 2,
            "expression1": {
                "attribute_name": "location_code",
                "operator": "in",
                "attribute_value": ["120801", "120802"],
            },
        },
    ]
    either = [
        {
            "seq_num": 1,
            "expression1": {
                "attribute_name": "poverty_level",
                "operator": "eq",
                "attribute_value": "NOT_POOR",
            },
            "condition": "or",
            "expression2": {"attribute_name": "YOB", "operator": "le", "attribute_value": 1950},
        }
    ]
    excluding = [
        {
            "expression1": {
                "attribute_name": "poverty_score",
                "operator": "gt",
                "attribute_value": 0,
            },
            "condition": "not",
            "expression2": {"attribute_name": "gender", "operator": "eq", "attribute_value": "M"},
        }
    ]
    response = await search(
        app,
        search_item("predicate", query),
        search_item("predicate", either),
        search_item("predicate", excluding),
    )
    infant_poor, far_or_old, with_a_woman = response.json()["message"]["search_response"]
    assert codes_of(infant_poor) == [households["poor"].code]
    assert sorted(codes_of(far_or_old)) == sorted(
        [households["elderly"].code, households["far"].code]
    )
    # "not male": households with at least one member who is not a man
    assert sorted(codes_of(with_a_woman)) == sorted(
        [households["poor"].code, households["elderly"].code, households["far"].code]
    )


async def test_pagination_pages_through_matches(app, households):
    first, second = (
        expression(
            {"poverty_score": {"$gt": 0}},
            pagination={"page_size": 2, "page_number": n},
            sort=[{"attribute_name": "poverty_score", "sort_order": "asc"}],
        )
        for n in (1, 2)
    )
    response = await search(app, first, second)
    page_1, page_2 = response.json()["message"]["search_response"]
    assert page_1["pagination"] == {"page_size": 2, "page_number": 1, "total_count": 3}
    assert codes_of(page_1) == [households["far"].code, households["elderly"].code]
    assert codes_of(page_2) == [households["poor"].code]


async def test_a_client_limited_to_an_area_sees_only_that_area(app, households):
    response = await search(
        app, expression({"poverty_score": {"$gt": 0}}), principal=DCI_CLIENT_IN_PHNOM_PENH
    )
    item = response.json()["message"]["search_response"][0]
    assert sorted(codes_of(item)) == sorted([households["poor"].code, households["elderly"].code])


# -- invalid requests: the standard's statuses ------------------------------------------------


async def test_invalid_items_are_rejected_with_the_standards_reason_codes(app, households):
    good = by_household_id(households["poor"].code, reference_id="dup")
    response = await search(
        app,
        good,
        by_household_id(households["poor"].code, reference_id="dup"),
        {**by_household_id("HH1"), "reference_id": ""},
        {**by_household_id("HH1"), "timestamp": "yesterday"},
        search_item("sql", "SELECT 1"),
        expression({"shoe_size": {"$gt": 40}}),
        expression({"poverty_score": {"$regex": "4"}}),
        by_household_id("HH1", sort=[{"attribute_name": "phone", "sort_order": "asc"}]),
        by_household_id("HH1", pagination={"page_size": 100000}),
        search_item("idtype-value", {"type": "PHONE", "value": "012345678"}),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["header"]["status"] == "succ"
    assert body["header"]["total_count"] == 10
    statuses = [
        (i["status"], i.get("status_reason_code")) for i in body["message"]["search_response"]
    ]
    assert statuses == [
        ("succ", None),
        ("rjct", "rjct.reference_id.duplicate"),
        ("rjct", "rjct.reference_id.invalid"),
        ("rjct", "rjct.timestamp.invalid"),
        ("rjct", "rjct.search_criteria.invalid"),
        ("rjct", "rjct.filter.invalid"),
        ("rjct", "rjct.filter.invalid"),
        ("rjct", "rjct.sort.invalid"),
        ("rjct", "rjct.pagination.invalid"),
        ("rjct", "rjct.search_criteria.invalid"),
    ]
    assert "shoe_size" in body["message"]["search_response"][5]["status_reason_message"]


@pytest.mark.parametrize(
    ("header_fields", "code"),
    [
        ({"version": "2.0.0"}, "rjct.version.invalid"),
        ({"action": "subscribe"}, "rjct.action.invalid"),
        ({"message_ts": "21/11/2026"}, "rjct.message_ts.invalid"),
        ({"total_count": 3}, "rjct.total_count.invalid"),
        ({"total_count": "one"}, "rjct.total_count.invalid"),
        ({"is_msg_encrypted": True}, "rjct.action.not_supported"),
    ],
)
async def test_a_bad_header_rejects_the_message_and_writes_nothing(
    app, households, header_fields, code
):
    response = await search(app, by_household_id(households["poor"].code), **header_fields)
    assert response.status_code == 200
    body = response.json()
    assert body["header"]["status"] == "rjct"
    assert body["header"]["status_reason_code"] == code
    [item] = body["message"]["search_response"]
    assert item["status"] == "rjct" and item["status_reason_message"].startswith(code)
    assert item["reference_id"] and "data" not in item
    assert body["message"]["correlation_id"], "the standard requires one, even on a rejection"
    assert await transactions(app) == 0


async def test_a_repeated_message_id_is_rejected_as_duplicate(app, households):
    message = search_message(by_household_id(households["poor"].code))
    async with client_for(app, DCI_CLIENT, audience="registry") as client:
        first = await client.post(SYNC, json=message)
        again = await client.post(SYNC, json=message)
    assert first.json()["header"]["status"] == "succ"
    assert again.json()["header"]["status"] == "rjct"
    assert again.json()["header"]["status_reason_code"] == "rjct.message_id.duplicate"
    assert await transactions(app) == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"message": {}}, 422, "header"),
        (
            {"header": header(), "message": {"transaction_id": "t", "search_request": []}},
            422,
            "message.search_request",
        ),
        (
            {
                "header": {**header(), "message_id": None},
                "message": {"transaction_id": "t", "search_request": [{}]},
            },
            422,
            "header.message_id",
        ),
        ({"header": header(), "message": {"search_request": [{}]}}, 422, "message.transaction_id"),
    ],
)
async def test_a_body_that_is_no_dci_envelope_is_a_dci_error(app, body, status, field):
    """The standard's HttpErrorResponse: application/json, errors[{code, message}], the
    first for the whole, then one per field."""
    async with client_for(app, DCI_CLIENT, audience="registry") as client:
        response = await client.post(SYNC, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    errors = response.json()["errors"]
    assert all(set(e) == {"code", "message"} for e in errors)
    assert {e["code"] for e in errors} == {"err.request.bad"}
    assert any(e["message"].startswith(f"{field}: ") for e in errors[1:])
    assert await transactions(app) == 0


async def test_malformed_json_is_a_400_dci_error(app):
    async with client_for(app, DCI_CLIENT, audience="registry") as client:
        response = await client.post(
            SYNC, content=b'{"header": ', headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "err.request.bad"


# -- access (in-process: the service's own check) ------------------------------------------


@pytest.mark.parametrize("principal", [CLIENT_WITHOUT_SCOPE, NATIONAL, CS_PHNOM_PENH_THMEI])
async def test_only_clients_with_the_dci_scope_may_search(app, households, principal):
    response = await search(app, by_household_id(households["poor"].code), principal=principal)
    assert response.status_code == 403
    [error] = response.json()["errors"]
    assert error["code"] == "err.request.forbidden"
    assert "registry.dci.search" in error["message"]
    assert await transactions(app) == 0

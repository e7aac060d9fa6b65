"""DCI search criteria, read and checked: what a client asks for, as a small tree of
predicates on the registry's queryable attributes (no SQL here; the repository compiles it).

Three query types, as the standard names them:

- `idtype-value`: `{"type": "HOUSEHOLD_ID" | "NIN" | "MEMBER_ID", "value": "..."}`.
- `expression`: the standard's expression template,
  `{"type": "...NoSql", "value": {"expression": {"collection": "Group", "query": {...}}}}`
  where `query` uses `$and` / `$or` / `$not` and `{attribute: {"$lt": 5}}` (also `$eq`, `$gt`,
  `$gte`, `$lte`, `$in`, `$ne`, or a bare value for equality). The published samples also send
  a predicate list under `expression`; that form is accepted too.
- `predicate`: the standard's `ExpPredicateWithConditionList`: items
  `{seq_num, expression1, condition, expression2}` with `{attribute_name, operator (gt lt eq
  ge le in), attribute_value}`; `condition` joins expression1 and expression2 (`not` means
  "expression1 and not expression2", or "not expression1" alone); items are ANDed in
  `seq_num` order.

A predicate holds for a household when one of its active members satisfies the whole query
(household attributes are the same for every member), so `sex = female and age > 60` means
one woman over 60, as a caseworker means it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.gazetteer import InvalidLocationCode, get_gazetteer, normalise_code

OPERATORS = ("gt", "lt", "eq", "ge", "le", "in", "ne")
_MONGO_OPERATORS = {
    "$eq": "eq",
    "$gt": "gt",
    "$lt": "lt",
    "$gte": "ge",
    "$lte": "le",
    "$ge": "ge",
    "$le": "le",
    "$in": "in",
    "$ne": "ne",
}

POVERTY_LEVELS = ("POOR_1", "POOR_2", "NOT_POOR", "UNASSESSED")
VULNERABILITY = ("disability", "elderly", "under_18", "under_2", "female_headed")
RELATIONSHIPS = (
    "head",
    "spouse",
    "child",
    "parent",
    "grandchild",
    "sibling",
    "other_relative",
    "non_relative",
)
SEVERITIES = ("severe", "medium", "mild")


@dataclass(frozen=True)
class Attribute:
    name: str
    kind: str  # int | date | enum | bool | code | text
    operators: tuple[str, ...]
    choices: tuple[str, ...] = ()
    sortable: bool = False


_ALL = OPERATORS
_EQ = ("eq", "in", "ne")
ATTRIBUTES: dict[str, Attribute] = {
    a.name: a
    for a in (
        # the household (Group)
        Attribute("household_id", "text", _EQ, sortable=True),
        Attribute("location_code", "code", ("eq", "in")),
        Attribute("poverty_level", "enum", _EQ, POVERTY_LEVELS, sortable=True),
        Attribute("poverty_score", "int", _ALL, sortable=True),
        Attribute("poverty_valid_until", "date", _ALL, sortable=True),
        Attribute("vulnerability_category", "enum", ("eq", "in"), VULNERABILITY),
        Attribute("group_size", "int", _ALL, sortable=True),
        Attribute("registration_date", "date", _ALL, sortable=True),
        # one of its members
        Attribute("age", "int", _ALL, sortable=True),
        Attribute("birth_date", "date", _ALL, sortable=True),
        Attribute("birth_year", "int", _ALL),
        Attribute("sex", "enum", _EQ, ("female", "male")),
        Attribute("relationship", "enum", _EQ, RELATIONSHIPS),
        Attribute("is_disabled", "bool", ("eq", "ne")),
        Attribute("disability_severity", "enum", _EQ, SEVERITIES),
        Attribute("pregnant", "bool", ("eq", "ne")),
    )
}
# Names other systems commonly send for the same attributes.
ALIASES = {
    "village_code": "location_code",
    "location": "location_code",
    "area_code": "location_code",
    "gender": "sex",
    "yob": "birth_year",
    "dob": "birth_date",
    "household_size": "group_size",
    "household_code": "household_id",
    "idpoor_level": "poverty_level",
    "demographic_info.person.sex": "sex",
    "demographic_info.sex": "sex",
}
ID_TYPES = ("HOUSEHOLD_ID", "NIN", "MEMBER_ID")
ID_TYPE_ALIASES = {"NATIONAL_ID": "NIN", "NATIONALID": "NIN", "HH_ID": "HOUSEHOLD_ID"}


class CriteriaError(ValueError):
    """The request is not one we can answer; `code` is the DCI status reason code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def filter_error(message: str) -> CriteriaError:
    return CriteriaError("rjct.filter.invalid", message)


@dataclass(frozen=True)
class Predicate:
    attribute: str
    operator: str
    value: Any


@dataclass(frozen=True)
class Combination:
    op: str  # and | or | not
    items: tuple[Node, ...]


Node = Predicate | Combination


@dataclass
class Criteria:
    entity: str = "Group"  # Group | Member
    query: Node | None = None
    by_national_id: str | None = None  # the NIN asked for (the only NIN we disclose)
    sort: list[tuple[str, str]] = field(default_factory=list)
    page_size: int = 100
    page_number: int = 1


MAX_PAGE_SIZE = 200


# -- values ---------------------------------------------------------------------------------


def _canonical_attribute(name: Any) -> Attribute:
    if not isinstance(name, str) or not name.strip():
        raise filter_error("attribute_name must be a non-empty string")
    key = name.strip()
    key = ALIASES.get(key.lower(), key.lower())
    attribute = ATTRIBUTES.get(key)
    if attribute is None:
        raise filter_error(
            f"attribute {name!r} is not queryable; use one of {', '.join(sorted(ATTRIBUTES))}"
        )
    return attribute


def _scalar(attribute: Attribute, value: Any) -> Any:
    name = attribute.name
    if attribute.kind == "int":
        if isinstance(value, bool):
            raise filter_error(f"{name}: {value!r} is not a number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,9}", value.strip()):
            return int(value.strip())
        raise filter_error(f"{name}: {value!r} is not a whole number")
    if attribute.kind == "date":
        if isinstance(value, str):
            text = value.strip()
            try:
                if len(text) == 10:
                    return date.fromisoformat(text)
                return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
            except ValueError:
                pass
        raise filter_error(f"{name}: {value!r} is not an ISO 8601 date")
    if attribute.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            return value.strip().lower() in ("true", "1")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise filter_error(f"{name}: {value!r} is not true or false")
    if attribute.kind == "enum":
        if isinstance(value, str):
            text = value.strip()
            if name == "sex":
                text = {"f": "female", "m": "male"}.get(text.lower(), text.lower())
            elif name == "poverty_level":
                text = text.upper()
            else:
                text = text.lower()
            if text in attribute.choices:
                return text
        raise filter_error(f"{name}: {value!r} is not one of {', '.join(attribute.choices)}")
    if attribute.kind == "code":
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            try:
                code = normalise_code(value.strip())
                if get_gazetteer().get(code) is None:
                    raise InvalidLocationCode(code)
                return code
            except (InvalidLocationCode, ValueError):
                pass
        raise filter_error(f"{name}: {value!r} is not an NCDD gazetteer code")
    if isinstance(value, str) and value.strip() and len(value) <= 100:
        return value.strip()
    raise filter_error(f"{name}: {value!r} is not a non-empty text")


def predicate(name: Any, operator: Any, value: Any) -> Predicate:
    attribute = _canonical_attribute(name)
    if not isinstance(operator, str) or operator not in attribute.operators:
        raise filter_error(
            f"{attribute.name}: operator {operator!r} is not one of "
            f"{', '.join(attribute.operators)}"
        )
    if operator == "in":
        values = value
        if isinstance(value, str):
            values = [v for v in value.split(",") if v.strip()]
        if not isinstance(values, list) or not values or len(values) > 100:
            raise filter_error(f"{attribute.name}: 'in' needs a list of 1 to 100 values")
        return Predicate(attribute.name, "in", tuple(_scalar(attribute, v) for v in values))
    return Predicate(attribute.name, operator, _scalar(attribute, value))


# -- query types ----------------------------------------------------------------------------


def parse_id_query(query: Any) -> tuple[Node, str | None]:
    if not isinstance(query, dict) or "type" not in query or "value" not in query:
        raise CriteriaError(
            "rjct.search_criteria.invalid", "idtype-value needs a query {type, value}"
        )
    id_type = query["type"]
    if not isinstance(id_type, str):
        raise CriteriaError("rjct.search_criteria.invalid", "query.type must be a string")
    id_type = id_type.strip().upper()
    id_type = ID_TYPE_ALIASES.get(id_type, id_type)
    if id_type not in ID_TYPES:
        raise CriteriaError(
            "rjct.search_criteria.invalid",
            f"identifier type {query['type']!r} is not one of {', '.join(ID_TYPES)}",
        )
    value = query["value"]
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > 40:
        raise CriteriaError(
            "rjct.search_criteria.invalid", "query.value must be a non-empty identifier"
        )
    value = value.strip()
    if id_type == "HOUSEHOLD_ID":
        return Predicate("household_id", "eq", value.upper()), None
    if id_type == "MEMBER_ID":
        return Predicate("member_id", "eq", value), None
    return Predicate("national_id", "eq", value), value


def _mongo(node: Any, depth: int = 0) -> Node:
    if depth > 8:
        raise filter_error("the expression is nested too deeply")
    if not isinstance(node, dict) or not node:
        raise filter_error("an expression must be a non-empty object")
    parts: list[Node] = []
    for key, value in node.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise filter_error(f"{key} needs a non-empty list")
            parts.append(Combination(key[1:], tuple(_mongo(v, depth + 1) for v in value)))
        elif key == "$not":
            parts.append(Combination("not", (_mongo(value, depth + 1),)))
        elif key.startswith("$"):
            raise filter_error(f"{key} is not a supported operator")
        elif isinstance(value, dict):
            if not value:
                raise filter_error(f"{key}: empty condition")
            for op, operand in value.items():
                if op not in _MONGO_OPERATORS:
                    raise filter_error(f"{key}: operator {op!r} is not supported")
                parts.append(predicate(key, _MONGO_OPERATORS[op], operand))
        else:
            parts.append(predicate(key, "eq", value))
    return parts[0] if len(parts) == 1 else Combination("and", tuple(parts))


def parse_expression(query: Any) -> tuple[Node, str | None]:
    """Returns the tree and the collection it names (Group / Member), if any."""
    if isinstance(query, list):
        return parse_predicates(query), None
    if not isinstance(query, dict):
        raise CriteriaError("rjct.search_criteria.invalid", "expression needs a query object")
    value = query.get("value")
    expression = value.get("expression") if isinstance(value, dict) else None
    if not isinstance(expression, dict) or "query" not in expression:
        raise CriteriaError(
            "rjct.search_criteria.invalid",
            "expression needs query.value.expression.{collection, query}",
        )
    collection = expression.get("collection")
    if collection is not None and not isinstance(collection, str):
        raise CriteriaError("rjct.search_criteria.invalid", "collection must be a string")
    return _mongo(expression["query"]), collection


def parse_predicates(query: Any) -> Node:
    if not isinstance(query, list) or not query or len(query) > 50:
        raise CriteriaError(
            "rjct.search_criteria.invalid", "predicate needs a list of 1 to 50 items"
        )
    items: list[tuple[float, Node]] = []
    for index, item in enumerate(query):
        if not isinstance(item, dict) or not isinstance(item.get("expression1"), dict):
            raise CriteriaError(
                "rjct.search_criteria.invalid", f"query[{index}] needs an expression1 object"
            )
        seq = item.get("seq_num")
        try:
            order = float(seq) if seq not in (None, "") else float(index)
        except (TypeError, ValueError):
            raise CriteriaError(
                "rjct.search_criteria.invalid", f"query[{index}].seq_num is not a number"
            ) from None
        expressions = [item["expression1"]]
        number = 2
        while isinstance(item.get(f"expression{number}"), dict):
            expressions.append(item[f"expression{number}"])
            number += 1
        nodes = []
        for expression in expressions:
            if not all(k in expression for k in ("attribute_name", "operator", "attribute_value")):
                raise filter_error(
                    f"query[{index}]: an expression needs attribute_name, operator and "
                    "attribute_value"
                )
            nodes.append(
                predicate(
                    expression["attribute_name"],
                    expression["operator"],
                    expression["attribute_value"],
                )
            )
        condition = item.get("condition") or "and"
        if condition not in ("and", "or", "not"):
            raise filter_error(f"query[{index}].condition {condition!r} is not and, or, not")
        if len(nodes) == 1:
            node = Combination("not", (nodes[0],)) if condition == "not" else nodes[0]
        elif condition == "not":
            node = Combination("and", (nodes[0], *(Combination("not", (n,)) for n in nodes[1:])))
        else:
            node = Combination(condition, tuple(nodes))
        items.append((order, node))
    items.sort(key=lambda pair: pair[0])
    nodes = tuple(node for _, node in items)
    return nodes[0] if len(nodes) == 1 else Combination("and", nodes)


def _entity(name: Any) -> str:
    if name in (None, ""):
        return "Group"
    if isinstance(name, str):
        key = name.strip().lower().split(":")[-1]
        if key in ("group", "household"):
            return "Group"
        if key in ("member", "person"):
            return "Member"
    raise CriteriaError(
        "rjct.search_criteria.invalid", f"response entity {name!r} is not Group or Member"
    )


def parse_search_criteria(raw: Any) -> Criteria:
    if not isinstance(raw, dict):
        raise CriteriaError("rjct.search_criteria.invalid", "search_criteria must be an object")
    query_type = raw.get("query_type")
    if query_type not in ("idtype-value", "expression", "predicate"):
        raise CriteriaError(
            "rjct.search_criteria.invalid",
            "query_type must be one of idtype-value, expression, predicate",
        )
    if "query" not in raw:
        raise CriteriaError("rjct.search_criteria.invalid", "search_criteria.query is missing")
    criteria = Criteria(entity=_entity(raw.get("response_entity") or raw.get("reg_record_type")))
    if query_type == "idtype-value":
        criteria.query, criteria.by_national_id = parse_id_query(raw["query"])
    elif query_type == "expression":
        criteria.query, collection = parse_expression(raw["query"])
        if collection and not raw.get("response_entity"):
            criteria.entity = _entity(collection)
    else:
        criteria.query = parse_predicates(raw["query"])
    criteria.sort = parse_sort(raw.get("sort"))
    criteria.page_size, criteria.page_number = parse_pagination(raw.get("pagination"))
    return criteria


def parse_sort(raw: Any) -> list[tuple[str, str]]:
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list) or len(raw) > 5:
        raise CriteriaError("rjct.sort.invalid", "sort must be a list of at most 5 items")
    sort = []
    for item in raw:
        if not isinstance(item, dict):
            raise CriteriaError("rjct.sort.invalid", "each sort item must be an object")
        name = item.get("attribute_name")
        key = ALIASES.get(str(name).lower(), str(name).lower()) if name else ""
        attribute = ATTRIBUTES.get(key)
        if attribute is None or not attribute.sortable:
            sortable = ", ".join(sorted(a.name for a in ATTRIBUTES.values() if a.sortable))
            raise CriteriaError(
                "rjct.sort.invalid", f"cannot sort by {name!r}; sortable: {sortable}"
            )
        order = item.get("sort_order") or "asc"
        if order not in ("asc", "desc"):
            raise CriteriaError("rjct.sort.invalid", f"sort_order {order!r} is not asc or desc")
        sort.append((attribute.name, order))
    return sort


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_pagination(raw: Any) -> tuple[int, int]:
    if raw in (None, ""):
        return 100, 1
    if not isinstance(raw, dict):
        raise CriteriaError("rjct.pagination.invalid", "pagination must be an object")
    size = _whole(raw.get("page_size"))
    number = _whole(raw.get("page_number", 1))
    if size is None or not 1 <= size <= MAX_PAGE_SIZE:
        raise CriteriaError(
            "rjct.pagination.invalid", f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}"
        )
    if number is None or number < 1:
        raise CriteriaError("rjct.pagination.invalid", "page_number must be 1 or more")
    return size, number

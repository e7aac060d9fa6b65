"""One masking format for national IDs and phone numbers, wherever they are shown."""

from __future__ import annotations

from shared.masking import mask_national_id, mask_phone, mask_sensitive, mask_value


def test_a_national_id_keeps_its_last_four_digits():
    assert mask_national_id("010203040") == "*****3040"
    assert mask_value("national_id", "123456789012") == "********9012"


def test_a_phone_keeps_its_country_code_and_last_two_digits():
    assert mask_phone("+85512345678") == "+855******78"
    assert mask_value("phone", "+855123456777") == "+855*******77"


def test_nothing_to_mask_is_left_as_it_is():
    assert mask_value("national_id", None) is None
    assert mask_value("phone", "") == ""


def test_nested_documents_and_changes_are_masked_field_by_field():
    document = {
        "household": {
            "members": [{"national_id": "010203040", "phone": None, "name": "Sok"}],
        },
        "phone": {"from": "+85512345678", "to": "+855123456777"},
        "note": "kept",
    }
    assert mask_sensitive(document) == {
        "household": {"members": [{"national_id": "*****3040", "phone": None, "name": "Sok"}]},
        "phone": {"from": "+855******78", "to": "+855*******77"},
        "note": "kept",
    }

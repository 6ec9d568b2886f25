"""CMI's version 3 hash, checked against a value worked out by hand from the rules."""

from __future__ import annotations

import base64
import hashlib

from lms.enrolment.card_payments import amount_text, hash_v3, parse_amount


def test_hash_v3_matches_a_worked_example():
    params = {
        "oid": "AL1",
        "amount": "10.50",
        "BillToName": "Amal|Tazi",  # a "|" in a value is escaped
        "clientid": "600000000",
        "currency": "504",
        "okUrl": "https://lab.ma/ok\\x",  # so is a backslash
        "hash": "ignored",
        "encoding": "UTF-8",  # not signed either
    }
    # Names sorted without regard to case: amount, BillToName, clientid, currency, oid, okUrl.
    plain = "10.50|Amal\\|Tazi|600000000|504|AL1|https://lab.ma/ok\\\\x|st\\|ore"
    expected = base64.b64encode(hashlib.sha512(plain.encode()).digest()).decode()
    assert hash_v3(params, "st|ore") == expected


def test_the_hash_changes_with_any_value_or_key():
    params = {"oid": "AL1", "amount": "10.50"}
    base = hash_v3(params, "key")
    assert hash_v3({**params, "amount": "10.51"}, "key") != base
    assert hash_v3(params, "key2") != base
    # Upper and lower case names sort together: "Amount" still comes first.
    assert hash_v3({"oid": "AL1", "Amount": "10.50"}, "key") == base


def test_amounts_as_cmi_writes_them():
    assert amount_text(160000) == "1600.00"
    assert amount_text(5) == "0.05"
    assert parse_amount("1600.00") == 160000
    assert parse_amount("1600.001") is None
    assert parse_amount("abc") is None
    assert parse_amount("-5") is None

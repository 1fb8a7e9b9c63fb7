"""An event's hash is SHA-256 over the canonical JSON of its fields, however it is computed.

Format 1 (events written before revision 0004): Python's sorted-key JSON with the payload as a
JSON string. Format 2: RFC 8785 with the payload as an object (the `rfc8785` package is the reference).
"""

import hashlib
import json
import random
from datetime import date, datetime
from decimal import Decimal

import pytest
import rfc8785

from workflow.audit import FIELDS, FIELDS_V1, canonical_json, event_hash, event_json, jsonable, payload_json

AWKWARD = [
    None, "", "plain", 'quote " and backslash \\', "new\nline\ttab\r", "\x00\x1f\x7f control", "é ü ß — “Devon & Cornwall”",
    "emoji 🚓", "\u2028\u2029 separators", '{"payload":[1,2]}', "</script>", "\ue000 private use", "\b\f",
    0, 1, -7, 2**53 - 1, -(2**53) + 1,
]
PAYLOADS = [
    {}, {"title": "Strategic Alliance", "n": 3}, {"changes": {"target": {"from": 77.0, "to": 78.5}}},
    {"é": 1, "\ue000": 2, "\U0001f600": 3, "a": [True, False, None, 1e21, 1e-7, 0.1, -0.0]},
    {"cost_share": Decimal("30.500"), "on": date(2026, 11, 25), "at": datetime(2026, 11, 25, 9, 30), "pair": (1, "x")},
]


def test_format_1_writes_exactly_what_the_canonical_encoder_writes() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        fields = {name: rng.choice(AWKWARD + ["\ud800 lone surrogate", 2**63 + 5]) for name in FIELDS_V1} | {"format": 1}
        assert event_json(fields) == canonical_json({name: fields[name] for name in FIELDS_V1})


@pytest.mark.parametrize("odd", [True, False, 1.5, [1, "a"], {"b": 1, "a": None}])
def test_format_1_values_off_the_fast_path_are_encoded_as_the_encoder_would(odd: object) -> None:
    fields = {name: "x" for name in FIELDS_V1} | {"format": 1, "actor": odd}
    assert event_json(fields) == canonical_json({name: fields[name] for name in FIELDS_V1})


TEXTS = [value for value in AWKWARD if isinstance(value, str)]
NULLABLE = {"collaboration", "collab_prev", "from_stage", "to_stage", "reason"}


def test_format_2_is_rfc_8785_of_the_fields_with_the_payload_as_an_object() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        payload = rng.choice(PAYLOADS)
        fields = {name: rng.choice(TEXTS + [None] * (name in NULLABLE)) for name in FIELDS}
        fields |= {"seq": rng.choice([1, 42, 2**53 - 1]), "format": 2, "payload": payload_json(payload)}
        reference = rfc8785.dumps({**fields, "payload": jsonable(payload)})
        assert event_json(fields).encode() == reference
        assert event_hash(fields) == hashlib.sha256(reference).hexdigest()


def test_a_format_2_payload_is_json_native() -> None:
    payload = json.loads(payload_json(PAYLOADS[-1]))
    assert payload == {"cost_share": "30.500", "on": "2026-11-25", "at": "2026-11-25T09:30:00", "pair": [1, "x"]}
    assert payload_json({"b": 78.0, "a": 1e21}) == '{"a":1e+21,"b":78}'  # JavaScript's number forms


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 2**53, "\ud800", {1: "not a string key"}])
def test_values_without_an_rfc_8785_encoding_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        payload_json({"value": bad})


def test_the_format_decides_the_encoding() -> None:
    fields = {name: f"value of {name}" for name in FIELDS} | {"seq": 42, "reason": None, "payload": "{}"}
    v1, v2 = event_hash({**fields, "format": 1}), event_hash({**fields, "format": 2})
    canonical = canonical_json({name: fields[name] for name in FIELDS_V1})
    assert v1 == hashlib.sha256(canonical.encode()).hexdigest()
    assert v2 == hashlib.sha256(rfc8785.dumps({**fields, "format": 2, "payload": {}})).hexdigest()

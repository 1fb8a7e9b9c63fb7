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
from hypothesis import given, settings, strategies as st

from workflow.audit import FIELDS, FIELDS_V1, canonical_json, event_hash, event_json, jsonable, payload_json
from workflow.replay import facts

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


# -- the same, for any input: Hypothesis against the reference encoder ---------------------------------------

TEXT = st.text(st.characters(codec="utf-8"))  # every code point but lone surrogates: control characters, quotes, ...
NUMBER = st.integers(-(2**53) + 1, 2**53 - 1) | st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(st.none() | st.booleans() | NUMBER | TEXT,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)
FORMAT_2 = st.fixed_dictionaries({
    name: TEXT | st.none() if name in NULLABLE else TEXT for name in FIELDS if name not in ("seq", "format", "payload")
} | {"seq": st.integers(1, 2**53 - 1), "payload": st.dictionaries(TEXT, JSON, max_size=5)})


@settings(max_examples=500, deadline=None)
@given(FORMAT_2)
def test_format_2_is_byte_for_byte_rfc_8785_for_any_fields(fields: dict) -> None:
    stored = {**fields, "format": 2, "payload": payload_json(fields["payload"])}
    reference = rfc8785.dumps({**fields, "format": 2})
    assert event_json(stored).encode() == reference
    assert event_hash(stored) == hashlib.sha256(reference).hexdigest()


def as_json_reads(payload: str, reason: str | None) -> None:
    """Replay's reading of a stored payload gives json.loads's value, or its very error."""
    try:
        expected: object = {"reason": reason, **json.loads(payload)}
    except (TypeError, ValueError) as error:
        expected = (type(error), str(error))
    try:
        got: object = facts(payload, reason)
    except (TypeError, ValueError) as error:
        got = (type(error), str(error))
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters()) | st.builds("{}{}{}".format, st.sampled_from(["", " ", "\ufeff", "x"]),
                                               JSON.map(json.dumps), st.sampled_from(["", " ", "}", "{}", "x"])),
       TEXT | st.none())
def test_a_payload_is_read_exactly_as_json_reads_it(payload: str, reason: str | None) -> None:
    as_json_reads(payload, reason)


@pytest.mark.parametrize("payload", ['{"a":1}', '{"reason":"own","a":[1,{"b":null}]}', ' {"a":1}', '{"a":1} ', "\ufeff{}",
                                     '{"a":1}{', "[1]", '"text"', "", '{"a":}', '{"a":1,}', "null", "1e400", '{"a":"\\ud800"}'])
def test_a_payload_is_read_exactly_as_json_reads_it_at_the_edges(payload: str) -> None:
    as_json_reads(payload, "why")

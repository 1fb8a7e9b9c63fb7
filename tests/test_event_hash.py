"""An event's hash is SHA-256 over the canonical JSON of its fields, however it is computed."""

import hashlib
import random

import pytest

from workflow.audit import FIELDS, canonical_json, event_hash, event_json

AWKWARD = [
    None, "", "plain", 'quote " and backslash \\', "new\nline\ttab\r", "\x00\x1f control", "é ü ß — “Devon & Cornwall”",
    "emoji 🚓", "\u2028\u2029 separators", "\ud800 lone surrogate", '{"payload":[1,2]}', "</script>",
    0, 1, -7, 2**63 + 5, 10**30,
]


def test_the_event_template_writes_exactly_what_the_canonical_encoder_writes() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        values = [rng.choice(AWKWARD) for _ in FIELDS]
        assert event_json(values) == canonical_json(dict(zip(FIELDS, values)))


@pytest.mark.parametrize("odd", [True, False, 1.5, [1, "a"], {"b": 1, "a": None}])
def test_values_off_the_fast_path_are_encoded_as_the_encoder_would(odd: object) -> None:
    values = ["x"] * len(FIELDS)
    values[3] = odd
    assert event_json(values) == canonical_json(dict(zip(FIELDS, values)))


def test_event_hash_is_sha256_of_the_canonical_json_of_the_fields() -> None:
    fields = {name: f"value of {name}" for name in FIELDS} | {"seq": 42, "reason": None, "extra": "ignored"}
    canonical = canonical_json({name: fields[name] for name in FIELDS})
    assert event_hash(fields) == hashlib.sha256(canonical.encode()).hexdigest()

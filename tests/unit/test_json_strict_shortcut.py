"""The strict decoder's shortcut: two searches decide when the exact scanner may be
skipped. It may only skip documents the exact scanner would accept."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from router.core.errors import InvalidInput
from router.core.json_input import loads_strict

# JSON white space a sender may put around a colon.
_SPACE = st.sampled_from(["", " ", "\t", "\n", "\r\n", "  "])
# Strings that look like the end of a key, or hold long digit runs, inside a value.
_TRICKY = st.sampled_from(['":', '\\":', '" :', "\\\\", "1234567890123456789", "é", "\\u0022:"])
_TEXT = st.lists(st.one_of(st.text(max_size=6), _TRICKY), max_size=4).map("".join)
_INTS = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    st.integers(2**64, 2**80),
    st.integers(-(2**80), -(2**63) - 1),
    st.integers(-1000, 1000),
)


def _string(text: str) -> str:
    # The standard encoder escapes quotes and backslashes the way senders do.
    return json.dumps(text, ensure_ascii=False)


@st.composite
def _document(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON text built by hand: keys that may repeat, any spacing, tricky strings."""
    kind = draw(st.sampled_from(["object", "array", "scalar"] if depth < 4 else ["scalar"]))
    if kind == "scalar":
        scalar = draw(st.one_of(_INTS.map(str), _TEXT.map(_string), st.just("true")))
        return str(scalar)
    if kind == "array":
        items = draw(st.lists(_document(depth + 1), max_size=3))
        return "[" + ",".join(items) + "]"
    keys = draw(st.lists(st.sampled_from(["a", "b", 'q"', "n:", "é"]) | _TEXT, max_size=4))
    pairs = []
    for key in keys:
        before, after = draw(_SPACE), draw(_SPACE)
        pairs.append(f"{_string(key)}{before}:{after}{draw(_document(depth + 1))}")
    return "{" + ",".join(pairs) + "}"


def _exact(text: str) -> Any:
    """The reference: always through the exact scanner (what the shortcut may skip)."""

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in pairs}) != len(pairs):
            raise ValueError("duplicate_key")
        return dict(pairs)

    def int_hook(literal: str) -> int:
        value = int(literal)
        if not -(2**63) <= value <= 2**64 - 1:
            raise ValueError("number_too_large")
        return value

    try:
        json.loads(text, object_pairs_hook=pairs_hook, parse_int=int_hook)
    except ValueError as exc:
        return str(exc)
    return orjson.loads(text)


@settings(max_examples=600, deadline=None)
@given(_document())
@example('{"a":1,"a" :2}')
@example('{"x":"\\":","a":1,"a":2}')
@example('{"n":18446744073709551616}')
@example('["1234567890123456789", 1]')
def test_the_shortcut_refuses_exactly_what_the_exact_scanner_refuses(text: str) -> None:
    expected = _exact(text)
    for payload in (text, text.encode()):
        try:
            got: Any = loads_strict(payload)
        except InvalidInput as exc:
            got = exc.reason
        assert got == expected


@pytest.mark.parametrize(
    "payload",
    [
        # A key repeated while a value holds a key-like text: the counts differ anyway.
        b'{"id":"a","note":"he said \\"x\\": no","id":"b"}',
        # Spacing between a repeated key and its colon.
        b'{"id":"a", "id"\r\n :"b"}',
        # Repeated in an object in an array.
        b'{"l":[{"k":1},{"k":1,"k":2}]}',
    ],
)
def test_repeated_keys_are_refused_through_the_shortcut(payload: bytes) -> None:
    with pytest.raises(InvalidInput) as info:
        loads_strict(payload)
    assert info.value.reason == "duplicate_key"

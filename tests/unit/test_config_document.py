"""Decoding a config body sent over the API: YAML and JSON, strictly."""

from __future__ import annotations

import time

import pytest

from router.config.document import MAX_NODES, DocumentError, load_document


def _refused(raw: bytes) -> str:
    with pytest.raises(DocumentError) as info:
        load_document(raw)
    return str(info.value)


def test_yaml_json_and_yaml_flow_mappings_decode() -> None:
    assert load_document(b"pools:\n  - id: a\nrules: []\n") == {"pools": [{"id": "a"}], "rules": []}
    assert load_document(b'  {"pools": [{"id": "a"}]}') == {"pools": [{"id": "a"}]}
    assert load_document(b"{pools: [a, b]}") == {"pools": ["a", "b"]}


def test_anchors_and_aliases_for_shared_values_are_fine() -> None:
    raw = b"week: &w {mon: ['08:00-18:00']}\npools:\n  - schedule: *w\n  - schedule: *w\n"
    doc = load_document(raw)
    assert doc["pools"][0]["schedule"] == doc["pools"][1]["schedule"] == {"mon": ["08:00-18:00"]}


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"a: 1\nb: 2\na: 3\n", "line 3: the key 'a' appears twice"),
        (b"pools:\n  - id: x\n    id: y\n", "line 3: the key 'id' appears twice"),
        (b'{"a": {"b": 1, "b": 2}}', "the key 'b' appears twice"),
        (b"{a: 1, a: 2}", "the key 'a' appears twice"),
        (b"[" * 40 + b"]" * 40, "nested more than 32 levels"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "nested more than 32 levels"),
        (b"a: &x [*x]\n", "32 levels"),
        (b"a: {", "not valid YAML or JSON"),
        (b"!!python/object/apply:os.system ['true']", "not valid YAML or JSON"),
    ],
)
def test_refused_with_the_reason(raw: bytes, words: str) -> None:
    assert words in _refused(raw)


def test_an_alias_bomb_is_refused_quickly() -> None:
    # 2**25 leaves from a 1 KB document: the "billion laughs".
    lines = [b'l0: &l0 ["lol", "lol"]']
    for i in range(1, 25):
        lines.append(b"l%d: &l%d [*l%d, *l%d]" % (i, i, i - 1, i - 1))
    raw = b"\n".join(lines) + b"\n"
    assert len(raw) < 1024
    start = time.perf_counter()
    assert f"more than {MAX_NODES} values" in _refused(raw)
    assert time.perf_counter() - start < 5.0

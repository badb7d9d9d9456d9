"""Label maps: an export's values (a helpdesk group, a queue) to a head's labels.

``train --label-map FILE`` reads a mapping ``{source_value: label}`` so that an
export labelled by group (``Billing EU``, ``Payments``, ``L2 Network``) trains
the ``category`` or ``tier`` head directly. The file is YAML (``.yaml``,
``.yml``), JSON (``.json``) or CSV (``.csv``, ``.tsv``: a header line, then two
columns, the source value and the label). Several values may map to one label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml

from classifiers.errors import DataError
from classifiers.exports import open_export

Unmapped = Literal["error", "drop"]
UNMAPPED_CHOICES: tuple[Unmapped, ...] = ("error", "drop")


@dataclass(frozen=True)
class LabelMap:
    """Source values (stripped) to labels, and the file they came from."""

    path: Path
    mapping: Mapping[str, str] = field(repr=False)

    def get(self, value: str) -> str | None:
        """The label for an export value, or ``None`` when the map has none."""
        return self.mapping.get(value.strip())

    @property
    def labels(self) -> list[str]:
        """The distinct labels the map produces, sorted."""
        return sorted(set(self.mapping.values()))


def load_label_map(path: Path) -> LabelMap:
    """Read a label map file; any problem is a :class:`DataError` naming it."""
    if not path.is_file():
        raise DataError(f"label map {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise DataError(f"label map {path}: not valid YAML: {exc}") from exc
        pairs = _pairs_of(path, raw)
    elif suffix == ".json":
        try:
            raw = orjson.loads(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError as exc:
            raise DataError(f"label map {path}: not valid JSON: {exc}") from exc
        pairs = _pairs_of(path, raw)
    elif suffix in (".csv", ".tsv"):
        pairs = _csv_pairs(path)
    else:
        raise DataError(f"label map {path}: use a .yaml, .yml, .json or .csv file")
    mapping: dict[str, str] = {}
    where: dict[str, str] = {}
    for place, source, label in pairs:
        if source in mapping and mapping[source] != label:
            raise DataError(
                f"label map {path}: {source!r} maps to {mapping[source]!r} ({where[source]}) "
                f"and to {label!r} ({place})"
            )
        mapping[source] = label
        where[source] = place
    if not mapping:
        raise DataError(f"label map {path} is empty")
    return LabelMap(path, mapping)


def _pairs_of(path: Path, raw: Any) -> list[tuple[str, str, str]]:
    """``(where, source, label)`` from a decoded YAML or JSON mapping."""
    if not isinstance(raw, dict):
        raise DataError(
            f"label map {path}: expected a mapping {{source_value: label}}, "
            f"got {type(raw).__name__}"
        )
    out = []
    for key, value in raw.items():
        source = _scalar(path, key, f"key {key!r}")
        label = _scalar(path, value, f"the label of {key!r}")
        out.append((f"key {source!r}", source, label))
    return out


def _scalar(path: Path, value: Any, what: str) -> str:
    """A key or label as stripped text; booleans and nulls are refused.

    YAML reads ``no``, ``yes``, ``on``, ``off`` unquoted as booleans and ``~``
    as null: taking them as ``False`` or ``None`` would silently map the wrong
    value, so they must be quoted.
    """
    if isinstance(value, bool) or value is None:
        raise DataError(
            f"label map {path}: {what} is {value!r}, not text; put it in quotes "
            "(YAML reads yes/no/on/off/~ unquoted as booleans or null)"
        )
    if not isinstance(value, str | int | float):
        raise DataError(f"label map {path}: {what} must be text, got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        raise DataError(f"label map {path}: {what} is empty")
    return text


def _csv_pairs(path: Path) -> list[tuple[str, str, str]]:
    with open_export(path, "csv") as export:
        header = export.header or ()
        if len(header) != 2:
            raise DataError(
                f"label map {path}: expected two columns (source value, label) after a header "
                f"line, the header has {len(header)}"
            )
        out = []
        for line, record in export.records:
            source, label = (record[name].strip() for name in header)
            if not source or not label:
                missing = "source value" if not source else "label"
                raise DataError(f"{path}:{line}: empty {missing}")
            out.append((f"line {line}", source, label))
    return out


def describe_values(counts: Mapping[str, int], first_lines: Mapping[str, int], most: int) -> str:
    """``'a' (12 rows, first at line 4), 'b' (1 row, line 9), ...``, most frequent first."""
    ranked = sorted(counts, key=lambda v: (-counts[v], first_lines.get(v, 0)))
    parts = []
    for value in ranked[:most]:
        n = counts[value]
        rows = f"{n} rows, first at line" if n > 1 else "1 row, line"
        parts.append(f"{value!r} ({rows} {first_lines[value]})")
    if len(ranked) > most:
        parts.append(f"and {len(ranked) - most} more")
    return ", ".join(parts)

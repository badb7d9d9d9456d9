"""Labelled examples from helpdesk exports (CSV, JSON lines, .xlsx) and ticket JSON objects.

The file formats are read by :mod:`classifiers.exports`; this module picks the
text and label columns, applies a label map and checks each row.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from classifiers.errors import DataError
from classifiers.exports import detect_format, open_export
from classifiers.label_map import LabelMap, Unmapped, describe_values
from classifiers.types import ClassifierInput

__all__ = [
    "Dataset",
    "Example",
    "detect_format",
    "input_from_json",
    "lookup",
    "read_dataset",
    "read_examples",
]

# Rows between two progress messages on a long read.
PROGRESS_EVERY = 100_000


def lookup(record: Mapping[str, Any], column: str) -> Any:
    """A field by name; a dotted name reaches into nested objects (``labels.tier``)."""
    if column in record:
        return record[column]
    value: Any = record
    for part in column.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled row of an export.

    ``text`` is what the heads train on (the text columns joined with a
    newline). ``subject`` and ``body`` are kept apart when the export's
    subject and body columns were named (``--subject-column``,
    ``--body-column``); otherwise they are ``None``. ``line`` is where the row
    starts in the file (the sheet row for ``.xlsx``).
    """

    text: str
    label: str
    line: int
    subject: str | None = None
    body: str | None = None


@dataclass(frozen=True)
class Dataset:
    """The examples of one export, its SHA-256 and what a label map dropped."""

    path: Path
    examples: list[Example]
    sha256: str
    dropped: Counter[str] = field(default_factory=Counter)
    first_dropped: dict[str, int] = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        """The examples' texts, in file order."""
        return [e.text for e in self.examples]

    @property
    def labels(self) -> list[str]:
        """The examples' labels (after the label map), in file order."""
        return [e.label for e in self.examples]

    def dropped_summary(self, most: int = 10) -> str:
        """The dropped values, most frequent first, with counts and first lines."""
        return describe_values(self.dropped, self.first_dropped, most)


def read_dataset(
    path: Path,
    text_columns: Sequence[str] = (),
    label_column: str = "label",
    *,
    fmt: str | None = None,
    delimiter: str | None = None,
    subject_column: str | None = None,
    body_column: str | None = None,
    label_map: LabelMap | None = None,
    unmapped: Unmapped = "error",
    progress: Callable[[str], None] | None = None,
) -> Dataset:
    """Read the labelled examples of a CSV, JSON-lines or ``.xlsx`` export.

    The text comes from ``text_columns`` (joined with a newline), or from
    ``subject_column`` and ``body_column`` (joined the same way, and kept
    apart in each :class:`Example`). With a ``label_map``, labels are the
    map's; a value it lacks is an error listing the first few such values,
    or with ``unmapped="drop"`` its rows are left out and counted in
    :attr:`Dataset.dropped`. A malformed row, an empty label and a row
    without text are errors naming the file and line.
    """
    named = (subject_column, body_column) if subject_column or body_column else ()
    if text_columns and named:
        raise DataError("give --text-column, or --subject-column/--body-column, not both")
    columns = list(text_columns) or [c for c in named if c]
    if not columns:
        raise DataError("no text column: give --text-column (or --subject-column/--body-column)")
    with open_export(path, fmt, delimiter) as export:
        if export.header is not None:
            _check_header(path, export.header, [*columns, label_column])
        examples: list[Example] = []
        dropped: Counter[str] = Counter()
        first_dropped: dict[str, int] = {}
        for count, (number, record) in enumerate(export.records, start=1):
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(f"{path.name}: {count} rows read")
            example = _example(path, number, record, columns, label_column, named)
            if label_map is not None:
                mapped = label_map.get(example.label)
                if mapped is None:
                    dropped[example.label] += 1
                    first_dropped.setdefault(example.label, number)
                    continue
                example = replace(example, label=mapped)
            examples.append(example)
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if dropped and unmapped == "error":
        assert label_map is not None
        raise DataError(
            f"{path}: {dropped.total()} row(s) have a {label_column!r} value that the label map "
            f"{label_map.path} does not map: {describe_values(dropped, first_dropped, 5)}; "
            "add them to the map or pass --unmapped drop"
        )
    if not examples:
        left_out = f" ({dropped.total()} dropped as unmapped)" if dropped else ""
        raise DataError(f"{path} holds no examples{left_out}")
    return Dataset(path, examples, digest, dropped, first_dropped)


def read_examples(
    path: Path,
    text_columns: Sequence[str],
    label_column: str,
    fmt: str | None = None,
    **options: Any,
) -> tuple[list[str], list[str], str]:
    """Texts, labels and the SHA-256 of the file.

    Several text columns are joined with a newline (e.g. subject and body).
    Rows without a label or without any text are an error naming the row.
    ``options`` are :func:`read_dataset`'s keyword arguments (``delimiter``,
    ``label_map``, ...).
    """
    data = read_dataset(path, text_columns, label_column, fmt=fmt, **options)
    return data.texts, data.labels, data.sha256


def _check_header(path: Path, header: Sequence[str], wanted: Sequence[str]) -> None:
    """Each wanted column is in the header, once."""
    for name in dict.fromkeys(wanted):
        n = header.count(name)
        if n == 0:
            shown = ", ".join(repr(h) for h in header[:20])
            more = f" and {len(header) - 20} more" if len(header) > 20 else ""
            raise DataError(f"{path}: no column {name!r} in the header; it has {shown}{more}")
        if n > 1:
            raise DataError(f"{path}: the header has {n} columns named {name!r}")


def _example(
    path: Path,
    number: int,
    record: Mapping[str, Any],
    columns: Sequence[str],
    label_column: str,
    named: Sequence[str | None],
) -> Example:
    """One record as an example (its label not yet mapped); no label or no text is an error.

    ``named`` is ``(subject_column, body_column)`` when the text comes from them,
    else empty.
    """
    parts = [lookup(record, col) for col in columns]
    text = "\n".join(str(p) for p in parts if p not in (None, ""))
    raw = lookup(record, label_column)
    label = "" if raw is None else str(raw).strip()
    if not label:
        raise DataError(f"{path}:{number}: no value in label column {label_column!r}")
    if not text.strip():
        raise DataError(f"{path}:{number}: no text in column(s) {', '.join(columns)}")
    if not named:
        return Example(text, label, number)
    subject, body = (_text(lookup(record, c)) if c else "" for c in named)
    return Example(text, label, number, subject, body)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def input_from_json(value: Any) -> ClassifierInput:
    """A :class:`ClassifierInput` from a ticket object or ``{"text": ...}``.

    Raises ``ValueError`` with a one-line reason for anything else.
    """
    if not isinstance(value, dict):
        raise ValueError('expected a JSON object (a ticket or {"text": ...})')
    # The subject apart, for heads that weigh it on its own (a ticket object's only).
    subject_of: str | None = None
    if "text" in value:
        text = value["text"]
        if not isinstance(text, str):
            raise ValueError("'text' must be a string")
    else:
        subject = value.get("subject") or ""
        body = value.get("body") or ""
        if not isinstance(subject, str) or not isinstance(body, str):
            raise ValueError("'subject' and 'body' must be strings")
        text = f"{subject}\n{body}" if subject and body else subject or body
        subject_of = subject or None
    if not text.strip():
        raise ValueError("no text: give 'text', or a non-empty 'subject' or 'body'")
    customer = value.get("customer") or {}
    if not isinstance(customer, dict):
        raise ValueError("'customer' must be an object")
    fields: dict[str, str | None] = {}
    for name in ("locale", "timezone", "country", "phone"):
        raw = customer.get(name, value.get(name))
        if raw is not None and not isinstance(raw, str):
            raise ValueError(f"'customer.{name}' must be a string")
        fields[name] = raw or None
    return ClassifierInput(text=text, subject=subject_of, **fields)

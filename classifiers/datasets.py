"""Reading labelled exports (CSV or JSON lines) and ticket JSON objects."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from classifiers.errors import DataError
from classifiers.types import ClassifierInput


def detect_format(path: Path, fmt: str | None = None) -> str:
    """``csv`` or ``jsonl``, from ``fmt`` or the file name."""
    if fmt:
        return fmt
    suffixes = "".join(path.suffixes).lower()
    if ".csv" in suffixes or ".tsv" in suffixes:
        return "csv"
    if ".jsonl" in suffixes or ".ndjson" in suffixes or suffixes.endswith(".json"):
        return "jsonl"
    raise DataError(f"cannot tell the format of {path}; pass --format csv or jsonl")


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


def read_examples(
    path: Path,
    text_columns: Sequence[str],
    label_column: str,
    fmt: str | None = None,
) -> tuple[list[str], list[str], str]:
    """Texts, labels and the SHA-256 of the file.

    Several text columns are joined with a newline (e.g. subject and body).
    Rows without a label or without any text are an error naming the row.
    """
    if not path.is_file():
        raise DataError(f"{path} does not exist")
    kind = detect_format(path, fmt)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    records = _csv_records(path) if kind == "csv" else _jsonl_records(path)
    texts: list[str] = []
    labels: list[str] = []
    for number, record in records:
        parts = [lookup(record, col) for col in text_columns]
        text = "\n".join(str(p) for p in parts if p not in (None, ""))
        label = lookup(record, label_column)
        if label in (None, ""):
            raise DataError(f"{path}:{number}: no value in label column {label_column!r}")
        if not text.strip():
            raise DataError(f"{path}:{number}: no text in column(s) {', '.join(text_columns)}")
        texts.append(text)
        labels.append(str(label))
    if not texts:
        raise DataError(f"{path} holds no examples")
    return texts, labels, digest


def _csv_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a CSV (or TSV) file with a header line, numbered from line 2."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        sample = fh.read(65536)
        fh.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(fh, dialect=dialect)
        return [(reader.line_num, dict(row)) for row in reader]


def _jsonl_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Objects of a JSON-lines file, numbered by line; blank lines are skipped."""
    out = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise DataError(f"{path}:{number}: not JSON: {exc}") from exc
            if not isinstance(value, dict):
                raise DataError(f"{path}:{number}: expected a JSON object")
            out.append((number, value))
    return out


def input_from_json(value: Any) -> ClassifierInput:
    """A :class:`ClassifierInput` from a ticket object or ``{"text": ...}``.

    Raises ``ValueError`` with a one-line reason for anything else.
    """
    if not isinstance(value, dict):
        raise ValueError('expected a JSON object (a ticket or {"text": ...})')
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
    return ClassifierInput(text=text, **fields)

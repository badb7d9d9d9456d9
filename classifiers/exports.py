"""Reading helpdesk exports record by record: CSV, JSON lines and Excel ``.xlsx``.

* CSV is read as RFC 4180 (Python's ``excel`` dialect: fields in ``"``, a
  ``"`` inside one doubled, line breaks allowed inside quotes), UTF-8 with or
  without a byte-order mark, CRLF or LF. The delimiter is the one of ``,``
  ``;`` and tab that splits the header line into the most fields (counted
  outside quotes), unless given. Nothing is guessed from the data rows: a
  sniffer reading ticket bodies full of quotes, commas and semicolons guesses
  wrong and splits a valid file in the wrong places.
* JSON lines (``.jsonl``, ``.ndjson``): one object per line, blank lines skipped.
* ``.xlsx``: the first sheet, its first row the header; needs ``openpyxl``
  (the ``xlsx`` extra).

Every record comes with the number of the physical line (CSV, JSON lines) or
sheet row (xlsx) where it starts, and every malformed record is a
:class:`~classifiers.errors.DataError` that says ``file:line: what is wrong``.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections.abc import Generator, Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from classifiers.errors import DataError

Record = tuple[int, dict[str, Any]]

FORMATS = ("csv", "jsonl", "xlsx")
DELIMITERS = (",", ";", "\t")
XLSX_INSTALL = "pip install 'ticket-router[xlsx]'"
_BOM = b"\xef\xbb\xbf"
# A header that is still inside quotes after this many lines is not a header.
_HEADER_MAX_LINES = 100
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass
class Export:
    """An opened export: its format, header, CSV delimiter and numbered records.

    ``header`` is ``None`` for JSON lines (each object has its own fields);
    ``records`` can be iterated once. Use it as a context manager (or call
    :meth:`close`) so the file is closed when a read stops early.
    """

    path: Path
    kind: str
    header: tuple[str, ...] | None
    records: Generator[Record, None, None]
    delimiter: str | None = None

    def close(self) -> None:
        """Close the file (or workbook) behind ``records``."""
        self.records.close()

    def __enter__(self) -> Export:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def detect_format(path: Path, fmt: str | None = None) -> str:
    """``csv``, ``jsonl`` or ``xlsx``, from ``fmt`` or the file name."""
    if fmt:
        if fmt not in FORMATS:
            raise DataError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    suffixes = "".join(path.suffixes).lower()
    if ".csv" in suffixes or ".tsv" in suffixes:
        return "csv"
    if ".jsonl" in suffixes or ".ndjson" in suffixes or suffixes.endswith(".json"):
        return "jsonl"
    if suffixes.endswith(".xlsx"):
        return "xlsx"
    raise DataError(f"cannot tell the format of {path}; pass --format csv, jsonl or xlsx")


def parse_delimiter(value: str) -> str:
    """A ``--delimiter`` value: one character, or ``tab``/``\\t``, ``comma``, ``semicolon``."""
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}
    delimiter = named.get(value.lower(), value)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValueError(
            f"a delimiter is one character other than a quote or line break, "
            f"or tab, comma, semicolon (got {value!r})"
        )
    return delimiter


def header_delimiter(header: str) -> str:
    """The one of ``,`` ``;`` and tab that splits ``header`` into the most fields.

    Only delimiters outside double quotes count; on a tie the earlier in that
    order wins, so a one-column header reads as comma-separated.
    """
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    return max(DELIMITERS, key=lambda d: counts[d])


def open_export(path: Path, fmt: str | None = None, delimiter: str | None = None) -> Export:
    """Open ``path`` for reading; the header (if any) is read and checked now."""
    if not path.is_file():
        raise DataError(f"{path} does not exist")
    kind = detect_format(path, fmt)
    if kind == "csv":
        return _open_csv(path, delimiter)
    if kind == "xlsx":
        return _open_xlsx(path)
    return Export(path, "jsonl", None, _jsonl_records(path))


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> DataError:
    """The error for a file that does not decode, naming the first bad line."""
    # The text layer decodes in chunks, so its error does not say which line.
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                return DataError(
                    f"{path}:{number}: not UTF-8 text ({bad.reason} at byte {bad.start + 1} "
                    "of the line); save the export as UTF-8"
                )
    return DataError(f"{path}: not UTF-8 text ({exc.reason}); save the export as UTF-8")


def _open_csv(path: Path, delimiter: str | None) -> Export:
    # Lines split at LF only (a CR stays for the csv module to read): counting LFs
    # matches the line numbers an editor shows, quoted line breaks included.
    fh = path.open(encoding="utf-8-sig", newline="\n")
    try:
        # The header record, up to its end outside quotes (a quoted name may hold a line break).
        head: list[str] = []
        try:
            for line in fh:
                head.append(line)
                if "".join(head).count('"') % 2 == 0 or len(head) >= _HEADER_MAX_LINES:
                    break
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, exc) from exc
        delim = delimiter or header_delimiter("".join(head))
        reader = csv.reader(
            itertools.chain(head, fh), dialect="excel", delimiter=delim, strict=True
        )
    except BaseException:
        fh.close()
        raise
    rows = _csv_rows(path, fh, reader, delim)
    first = next(rows, None)
    if first is None:
        raise DataError(f"{path} is empty; a CSV export starts with a header line")
    header = tuple(name.strip() for name in first[1])
    return Export(path, "csv", header, _csv_records(path, rows, header, delim), delim)


def _csv_rows(
    path: Path, fh: IO[str], reader: Any, delimiter: str
) -> Generator[tuple[int, list[str]], None, None]:
    """Non-blank rows with the line each starts on; a bad row names that line.

    Closes ``fh`` when done.
    """
    with fh:
        while True:
            start = reader.line_num + 1
            try:
                row: list[str] = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DataError(f"{path}:{start}: {exc} ({_describe(delimiter)})") from exc
            except UnicodeDecodeError as exc:
                raise _not_utf8(path, exc) from exc
            # A blank line, or one of empty fields (",,,": spreadsheets write them), is no record.
            if any(row) and not "".join(row).isspace():
                yield start, row


def _csv_records(
    path: Path,
    rows: Generator[tuple[int, list[str]], None, None],
    header: tuple[str, ...],
    delimiter: str,
) -> Generator[Record, None, None]:
    with closing(rows):
        for line, row in rows:
            if len(row) != len(header):
                raise DataError(
                    f"{path}:{line}: {len(row)} fields, the header has {len(header)} "
                    f"({_describe(delimiter)}; a field holding it, a quote or a line break "
                    'must be in double quotes, a quote inside one doubled: "")'
                )
            yield line, dict(zip(header, row, strict=True))


def _describe(delimiter: str) -> str:
    name = _DELIMITER_NAMES.get(delimiter, repr(delimiter))
    return f"delimiter {name}"


def _jsonl_records(path: Path) -> Generator[Record, None, None]:
    """Objects of a JSON-lines file, numbered by line; blank lines are skipped."""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if number == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise DataError(f"{path}:{number}: invalid JSON: {exc}") from exc
            if not isinstance(value, dict):
                kind = type(value).__name__
                raise DataError(f"{path}:{number}: expected a JSON object, got {kind}")
            yield number, value


def _open_xlsx(path: Path) -> Export:
    try:
        import openpyxl
    except ImportError:
        raise DataError(
            f"{path}: reading .xlsx files needs openpyxl, the xlsx extra: {XLSX_INSTALL}"
        ) from None
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: not an .xlsx workbook ({exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile and the XML parser's errors
        raise DataError(f"{path}: not an .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    sheet = book.worksheets[0]
    # The stored dimensions may be missing or wrong; without them every row
    # comes back as long as its own cells, so values past the header show.
    sheet.reset_dimensions()
    rows = _xlsx_rows(book, sheet.iter_rows(values_only=True))
    first = next(rows, None)
    if first is None:
        book.close()
        raise DataError(f"{path}: the first sheet is empty; its first row must be the header")
    names = [name.strip() for name in first[1]]
    while names and names[-1] == "":
        names.pop()
    return Export(path, "xlsx", tuple(names), _xlsx_records(path, rows, tuple(names)))


def _xlsx_rows(
    book: Any, cells: Iterable[tuple[Any, ...]]
) -> Generator[tuple[int, list[str]], None, None]:
    """Non-blank rows as text with their sheet row numbers; closes the workbook at the end."""
    try:
        for number, values in enumerate(cells, start=1):
            row = [_cell_text(v) for v in values]
            if any(field.strip() for field in row):
                yield number, row
    finally:
        book.close()


def _xlsx_records(
    path: Path, rows: Generator[tuple[int, list[str]], None, None], header: tuple[str, ...]
) -> Generator[Record, None, None]:
    from openpyxl.utils import get_column_letter

    with closing(rows):
        for number, row in rows:
            extra = [i for i, v in enumerate(row[len(header) :], start=len(header)) if v.strip()]
            if extra:
                raise DataError(
                    f"{path}:{number}: a value in column {get_column_letter(extra[0] + 1)}, "
                    f"past the header's {len(header)} columns"
                )
            row = row[: len(header)] + [""] * (len(header) - len(row))
            yield number, dict(zip(header, row, strict=True))


def _cell_text(value: Any) -> str:
    """A cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)

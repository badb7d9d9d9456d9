"""The oracle of the data-protection tests: is a planted item readable in a document?

A vendor reads what it receives with a human's eyes (or a script's), so the
document is searched the way they would read it: HTML tags dropped, base64 and
quoted-printable decoded, HTML entities and URL escapes decoded, Unicode NFKC
(fullwidth and mathematical digits, no-break spaces), every decimal digit of any script as its
ASCII digit, invisible characters (zero-width, soft hyphen, bidi marks) and
combining marks removed, case folded, and the common spellings of ``@`` and ``.``
(``at``/``dot``, ``(at)``, ``&#64;``, ``\\u0040``) undone. An item leaks when one of
its secrets is found that way, or any ``DIGIT_WINDOW`` consecutive digits of its
numbers, or its compact form, with the separators between them removed.

Each key and scalar of the document is searched on its own; the scalars of one list
(and the short ones of one object) are also searched joined, since a vendor reads
``["4111", "1111", ...]`` as one number.
"""

from __future__ import annotations

import base64
import html
import quopri
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import orjson

from tests.pii_item import DIGIT_WINDOW, Item

# Inside one string, what people put between the groups of a number.
# Not "*", "#" or "x": those are what a masker writes instead of digits.
_SEPARATORS = re.compile(r"[\s\-./()_,+~|:'\"\\]+")
_AT = re.compile(
    r"\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*|\s+(?:at|arroba)\s+|\s+@\s*|\s*@\s+|&#0*64;|&#x0*40;"
    r"|&commat;"
    r"|\\u0040"
)
_DOT = re.compile(
    r"\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*|\s+(?:dot|punto|ponto)\s+|\s+\.\s+|&#0*46;|&period;"
    r"|\\u002e"
)


def _visible(char: str) -> str:
    category = unicodedata.category(char)
    if category in ("Cf", "Mn", "Me"):
        return ""
    if category == "Nd":
        return str(unicodedata.decimal(char))
    return char


def normalise(text: str) -> str:
    """``text`` as a reader sees it (see the module doc), before ``@``/``.`` are undone."""
    text = unicodedata.normalize("NFKC", html.unescape(unquote(text)))
    if not text.isascii():
        text = "".join(map(_visible, text))
    return text.casefold()


def deobfuscate(text: str) -> str:
    """``john at example dot com``, ``ana&#64;example.com``: written back with ``@`` and ``.``."""
    return _DOT.sub(".", _AT.sub("@", text))


def squeeze(text: str) -> str:
    """A normalised string with every separator removed: ``4111.1111`` -> ``41111111``."""
    return _SEPARATORS.sub("", text)


_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>", re.IGNORECASE)
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
_QUOTED_PRINTABLE = re.compile(r"=(?:[0-9A-F]{2}|\r?\n)")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")
SHORT = 6  # an object's scalars this short are read joined too: {"cc1": "4111", ...}


def _scalars(values: Iterable[Any]) -> list[str]:
    return [str(v) for v in values if not isinstance(v, dict | list | bool | None)]


def _readings(text: str, depth: int = 0) -> Iterator[str]:
    """``text``, and what a reader makes of it: HTML tags dropped, base64 and
    quoted-printable decoded (and what those hold, decoded once more). RFC 3339 times
    (the router's own: decided_at, sla_due ...) are left out: their digits are no
    one's card, and read as digit runs they would match by chance."""
    text = _TIME.sub(" ", text)
    yield text
    if "<" in text:
        yield _TAG.sub("", text)
    decoded = [_decoded(blob) for blob in _BASE64.findall(text)]
    if _QUOTED_PRINTABLE.search(text):
        decoded.append(quopri.decodestring(text.encode()).decode("utf-8", "replace"))
    for inner in decoded:
        if inner:
            yield from (_readings(inner, depth + 1) if depth < 1 else (inner,))


def _decoded(blob: str) -> str | None:
    try:
        return base64.b64decode(blob, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def leaves(document: Any) -> Iterator[str]:
    """Every key and scalar of the JSON form of ``document`` as a reader reads it; the
    scalars of each list, and the short scalars of each object, also joined."""
    stack = [orjson.loads(orjson.dumps(document))]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            short = [v for v in _scalars(value.values()) if len(normalise(v).strip()) <= SHORT]
            if len(short) > 1:
                yield " ".join(short)
            for key, item in value.items():
                yield from _readings(str(key))
                stack.append(item)
        elif isinstance(value, list):
            scalars = _scalars(value)
            if len(scalars) > 1:
                yield " ".join(scalars)
            stack.extend(value)
        elif value is not None and not isinstance(value, bool):
            yield from _readings(str(value))


@dataclass(frozen=True, slots=True)
class Views:
    """A delivered document, prepared once for searching many items."""

    text: str
    plain: str
    squeezed: str

    @classmethod
    def of(cls, document: Any) -> Views:
        """The views of ``document``; strings stay apart (NUL between them)."""
        parts = [normalise(leaf) for leaf in leaves(document)]
        text = "\0".join(parts)
        return cls(text, deobfuscate(text), "\0".join(squeeze(p) for p in parts))


def fragments(item: Item) -> list[tuple[str, str]]:
    """(view, needle) pairs: any one found in a delivered document is a leak."""
    out = [("plain", deobfuscate(normalise(s))) for s in item.secrets]
    for digits in item.digits:
        size = min(DIGIT_WINDOW, len(digits))
        out.extend(("squeezed", digits[i : i + size]) for i in range(len(digits) - size + 1))
    out.extend(("squeezed", squeeze(normalise(c))) for c in item.compact)
    return list(dict.fromkeys(out))


def leaks(views: Views, item: Item) -> list[str]:
    """The fragments of ``item`` found in the document (empty: nothing in clear)."""
    return [needle for view, needle in fragments(item) if needle in getattr(views, view)]

"""Normalising text before personal data is searched for, with a map back to the original.

Look-alike characters and spellings must not hide a number or an address from the
finders: fullwidth, Arabic-Indic or mathematical digits, no-break and thin spaces,
zero-width, bidi and other invisible characters, combining marks on digits, en
dashes between digit groups, HTML tags between the pieces (``<span>4111</span>``),
``%40``, quoted-printable ``=40``, ``&#64;``, ``\\u0040``, ``john (at) example (dot)
com``, ``ana[@]example[.]com``, ``jan arroba mail punto es``. :func:`normalise`
rewrites those into plain ASCII for the finders and keeps a list of the pieces it
rewrote, so a span found in the normalised text can be mapped back to the original
one (:meth:`Normalised.original_span`). The original text is what gets masked, so
text outside a finding stays exactly as the customer wrote it.

Pure and fast: one precompiled regex per kind of rewrite, each run only when the
text holds what it starts with; text without any comes back as it is, with no map.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["DIGITS_OF", "Normalised", "changes", "char_class", "normalise"]

# Category -> what a character of it becomes, before NFKC is asked.
_DROPPED = frozenset({"Cf", "Cc", "Me"})  # invisible: zero-width, bidi marks, controls
_SPACES = frozenset({"Zs", "Zl", "Zp"})  # every space and line separator: " "
# Code points outside the BMP that NFKC maps to ASCII-relevant characters:
# mathematical digits and letters, enclosed alphanumerics, and the invisible tag
# characters (Cf) that can be sprinkled between digits.
_ASTRAL = ((0x1D400, 0x1D800), (0x1F100, 0x1F200), (0xE0000, 0xE0080))
# Not decomposed by NFKC, but a full stop in East Asian text.
_EXTRA = {"\u3002": ".", "\uff61": ".", "\u2212": "-"}


def _char_map() -> dict[str, str]:
    """Every non-ASCII character the finders should see differently, and what as."""
    table: dict[str, str] = {}
    ranges = [(0x80, 0x10000), *_ASTRAL]
    for low, high in ranges:
        for cp in range(low, high):
            ch = chr(cp)
            category = unicodedata.category(ch)
            if category in ("Cs", "Cn", "Co", "Mn"):
                continue  # Mn: see _COMBINING
            if category in _DROPPED:
                table[ch] = ""
            elif category in _SPACES:
                table[ch] = " "
            elif category == "Nd":
                table[ch] = str(unicodedata.digit(ch))
            elif category == "Pd":
                table[ch] = "-"
            else:
                norm = unicodedata.normalize("NFKC", ch)
                if norm != ch:
                    # A symbol that becomes letters ("№" -> "No", "™" -> "TM") is a word
                    # of its own: it must not glue itself to an id next to it.
                    table[ch] = f" {norm} " if category[0] == "S" and norm.isalpha() else norm
    table.update(_EXTRA)
    return table


def char_class(chars: list[str]) -> str:
    """A regex character class of ``chars``, as ranges."""
    cps = sorted(ord(c) for c in chars)
    parts: list[str] = []
    start = prev = cps[0]
    for cp in [*cps[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        parts.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
        start = prev = cp
    return "[" + "".join(parts) + "]"


_MAP = _char_map()
#: Every non-ASCII character :func:`normalise` turns into text with digits in it
#: ("\uff14", "\u0664", "\u2460", "\u00bd"), and how many digits (one to three).
DIGITS_OF: dict[str, int] = {
    ch: n for ch, rep in _MAP.items() if (n := sum(c.isdigit() for c in rep))
}
_COMBINING = char_class(
    [chr(c) for c in range(0x300, 0x10000) if unicodedata.category(chr(c)) == "Mn"]
)
_ASCII_CONTROL = "[\x00-\x08\x0e-\x1f\x7f]"
_OPEN, _CLOSE = r"[(\[{<]", r"[)\]}>]"
# "@" and "." spelled out, in the languages of the tickets: "john at example dot com",
# "jan arroba mail punto es", "ana arobase exemple point fr".
AT_WORDS = "at|arroba|arobase|chiocciola|klammeraffe"
DOT_WORDS = "dot|punto|ponto|point|punkt|kropka"
_DOTS = frozenset(DOT_WORDS.split("|"))
_DOT_WORD = rf"(?:\s*{_OPEN}\s*(?i:{DOT_WORDS})\s*{_CLOSE}\s*|\s+(?i:{DOT_WORDS})\s+)"

# One regex per kind of rewrite, each run only when its trigger is in the text, and
# each starting with a literal or a narrow class: a pattern that starts with "\s*"
# or a look-behind is tried at every position (a third of a millisecond on 2 KB).
# Context the patterns cannot start with is checked in _context.
_PASSES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # "ana(at)example", "ana [at] example", "example {dot} com", defanged "ana[@]x[.]com"
    # (spaces around: _context)
    ("at", re.compile(rf"{_OPEN}\s*(?:(?i:{AT_WORDS})|@)\s*{_CLOSE}"), "([{<"),
    ("dot", re.compile(rf"{_OPEN}\s*(?:(?i:{DOT_WORDS})|\.)\s*{_CLOSE}"), "([{<"),
    # "john at example dot com": " at " and " dot " between words (_context)
    # (always run: the spaces may all be no-break ones)
    ("word", re.compile(rf"\s+(?i:{AT_WORDS}|{DOT_WORDS})\s+"), ""),
    # "john @ example.com" (the spaces around it: _context)
    ("at_spaced", re.compile("@"), "@"),
    # "<span>4111</span>", "ana<b>@</b>example.com": tags split nothing (see _rewrite)
    # A tag's name is letters (h1-h6 aside): "<RE152322A>" is an id in brackets, no tag.
    ("tag", re.compile(r"</?(?!(?i:at|dot)\s*>)[A-Za-z]{1,16}[1-6]?(?:\s[^<>]{0,200})?/?>"), "<"),
    # "ana%40example.com", double-encoded "%2540"
    ("pct", re.compile(r"%(?:25)*[0-9A-Fa-f]{2}"), "%"),
    # Quoted-printable (a MIME part pasted as is): "ana=40example.com", "4111=201111",
    # soft line breaks "=\n"
    ("qp", re.compile(r"=(?:[0-9A-F]{2}|\r?\n)"), "="),
    # "&#64;", "&#x40;", "&commat;"
    (
        "entity",
        re.compile(r"&#[xX][0-9A-Fa-f]{1,6};|&#\d{1,7};|&(?i:commat|period|nbsp|hyphen|dash);"),
        "&",
    ),
    # "\u0040", "\x40" written out in the text
    ("escape", re.compile(r"\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}"), "\\"),
)
# After " at ": a name with a dot (or a spelled-out dot) in it, as in a domain.
_AT_TAIL = re.compile(rf"[\w-]+(?:\.|{_DOT_WORD})\w")
_SPACE = re.compile(r"\s*")
_TAG_NAME = re.compile(r"</?[A-Za-z]{1,16}[1-6]?")
_TAG_PUNCTUATION = re.compile(r"[\"'=]")


def _word_char(text: str, pos: int) -> bool:
    return 0 <= pos < len(text) and (text[pos].isalnum() or text[pos] == "_")


def _context(kind: str, text: str, start: int, end: int) -> tuple[str, int, int] | None:
    """The kind of rewrite and its span once the text around a match is looked at;
    None when the context says it is no obfuscation ("look at this")."""
    if kind in ("at", "dot"):
        # The spaces around a bracketed word go with it.
        while start > 0 and text[start - 1].isspace():
            start -= 1
        end = _SPACE.match(text, end).end()  # type: ignore[union-attr]
        return kind, start, end
    if kind == "word":
        if not (_word_char(text, start - 1) and _word_char(text, end)):
            return None
        if text[start:end].strip().lower() in _DOTS:
            return "dot", start, end
        return ("at", start, end) if _AT_TAIL.match(text, end) else None
    if kind == "at_spaced":
        before = start
        while before > 0 and text[before - 1].isspace():
            before -= 1
        after = _SPACE.match(text, end).end()  # type: ignore[union-attr]
        if (before, after) == (start, end) or not (
            _word_char(text, before - 1) and _word_char(text, after)
        ):
            return None  # "ana@example.com" needs no rewrite; "@ home" is no address
        return "at", before, after
    return kind, start, end


# Look-alikes and invisibles. Split at the BMP: a class with code points above it
# is matched range by range, one in the BMP by a table (ten times faster).
_BMP_CHARS = re.compile(char_class([c for c in _MAP if ord(c) < 0x10000]) + "+")
_ASTRAL_CHARS = re.compile(char_class([c for c in _MAP if ord(c) >= 0x10000]) + "+")
_ANY_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# Combining marks on ASCII characters ("4\u0332"); on other letters they belong there.
_ANY_COMBINING = re.compile(_COMBINING)
_COMBINING_ON_ASCII = re.compile(rf"(?<=[\x00-\x7f]){_COMBINING}+")
_CONTROLS = re.compile(_ASCII_CONTROL + "+")
_ENTITIES = {"commat": "@", "period": ".", "nbsp": " ", "hyphen": "-", "dash": "-"}


def _decoded(code: int) -> str | None:
    """The character of a decoded escape as the finders should see it; None to leave it."""
    if not 0x20 <= code < 0x110000 or 0xD800 <= code < 0xE000:
        return None
    ch = chr(code)
    return _MAP.get(ch, ch)


def _rewrite(kind: str, piece: str) -> str | None:
    """What one matched piece becomes in the normalised text; None to leave it as it is."""
    if kind == "at":
        return "@"
    if kind == "dot":
        return "."
    if kind == "tag":
        # The tag's syntax goes, its attribute values stay ("<a href="mailto:...">",
        # "<input value="4111 ...">"): a tag without attributes joins what it splits.
        attributes = _TAG_NAME.sub("", piece, count=1).rstrip("/>")
        return " " + _TAG_PUNCTUATION.sub(" ", attributes) + " " if attributes.strip() else ""
    if kind == "qp":
        if piece[1] in "\r\n":
            return ""
        code = int(piece[1:], 16)
        return chr(code) if 0x20 <= code < 0x7F else None
    if kind == "pct":
        code = int(piece[-2:], 16)
        return chr(code) if 0x20 <= code < 0x7F else None
    if kind == "entity":
        body = piece[1:-1].lower()
        if body.startswith("#x"):
            return _decoded(int(body[2:], 16))
        if body.startswith("#"):
            return _decoded(int(body[1:]))
        return _ENTITIES[body]
    if kind == "escape":
        return _decoded(int(piece[2:], 16))
    return "".join(_MAP.get(ch, "") for ch in piece)


@dataclass(frozen=True, slots=True)
class Normalised:
    """The normalised text and how its pieces map to the original.

    ``edits`` holds, in order, ``(norm_start, norm_end, orig_start, orig_end)`` for
    each rewritten piece; text between edits maps one to one. ``starts`` are the
    edits' ``norm_start`` values, for bisection.
    """

    text: str
    edits: tuple[tuple[int, int, int, int], ...] = ()
    starts: tuple[int, ...] = ()

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that normalised ``[start, end)`` came from.

        A span that starts or ends inside a rewritten piece takes the whole piece.
        """
        if not self.edits:
            return start, end
        # Start: the last edit beginning at or before it; inside it, its whole piece.
        k = bisect.bisect_right(self.starts, start) - 1
        if k >= 0:
            _, ne, os_, oe = self.edits[k]
            start = os_ if start < ne else oe + (start - ne)
        # End: the last edit beginning before it; inside it (or at its end), all of it.
        k = bisect.bisect_left(self.starts, end) - 1
        if k >= 0:
            _, ne, _, oe = self.edits[k]
            end = oe + max(end - ne, 0)
        return start, max(start, end)


def changes(text: str) -> bool:
    """True when :func:`normalise` may rewrite a character of ``text`` (a quick check)."""
    if text.isascii():
        return _CONTROLS.search(text) is not None
    return (
        _BMP_CHARS.search(text) is not None
        or _ANY_ASTRAL.search(text) is not None
        or _ANY_COMBINING.search(text) is not None
    )


def normalise(text: str) -> Normalised:
    """``text`` as the finders should read it (see the module doc), with its map back."""
    parts: list[str] = []
    edits: list[tuple[int, int, int, int]] = []
    pos = norm_len = 0
    for start, end, replacement in _rewrites(text):
        if start < pos:
            continue  # overlaps a piece rewritten already
        parts.append(text[pos:start])
        norm_len += start - pos
        edits.append((norm_len, norm_len + len(replacement), start, end))
        parts.append(replacement)
        norm_len += len(replacement)
        pos = end
    if not edits:
        return Normalised(text)
    parts.append(text[pos:])
    return Normalised("".join(parts), tuple(edits), tuple(e[0] for e in edits))


def _rewrites(text: str) -> list[tuple[int, int, str]]:
    """Every rewrite the passes find, by position: (start, end, replacement)."""
    found: list[tuple[int, int, str]] = []
    for kind, pattern, trigger in _PASSES:
        if trigger and not any(c in text for c in trigger):
            continue
        for match in pattern.finditer(text):
            placed = _context(kind, text, *match.span())
            if placed is None:
                continue
            kind_found, start, end = placed
            replacement = _rewrite(kind_found, text[start:end])
            if replacement is not None and replacement != text[start:end]:
                found.append((start, end, replacement))
    if text.isascii():
        # isprintable() is false for "\n" too, but true text without controls is common.
        passes = [] if text.isprintable() else [_CONTROLS]
    else:
        passes = [_CONTROLS, _BMP_CHARS]
        if _ANY_ASTRAL.search(text):
            passes.append(_ASTRAL_CHARS)
        if _ANY_COMBINING.search(text):
            passes.append(_COMBINING_ON_ASCII)
    for chars in passes:
        for match in chars.finditer(text):
            piece = match.group()
            found.append((match.start(), match.end(), "".join(_MAP.get(c, "") for c in piece)))
    found.sort(key=lambda f: (f[0], -f[1]))  # at one start, the longest rewrite wins
    return found

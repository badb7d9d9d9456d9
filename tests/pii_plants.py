"""Planted personal data for the data-protection tests.

An :class:`Item` (``tests.pii_item``) is one piece of personal data as a ticket would carry it
(``written``) with what must not survive masking: ``secrets`` (the value itself),
``digits`` (no ``DIGIT_WINDOW`` consecutive digits of them may survive) and
``compact`` (letters and digits that must not survive, separators ignored);
``tests.pii_oracle`` searches documents for them. Every format is built from a
seeded ``random.Random``, so the same seed gives the same items; checked numbers
(cards, IBANs, CPF, SSN, DNI, NIE, codice fiscale) are valid by their own check
digits, so a masker that verifies them has no excuse. Placing items in tickets is
``tests.pii_tickets``.
"""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Callable

from stdnum import iban, luhn
from stdnum.br import cpf
from stdnum.es import dni, nie
from stdnum.it import codicefiscale
from stdnum.us import ssn

from tests.pii_item import (
    DIGIT_WINDOW,
    JSON_SAFE_INT,
    LRM,
    NBSP,
    NNBSP,
    SCRIPT_ZEROS,
    SOFT_HYPHEN,
    THIN,
    ZWSP,
    Item,
    ascii_digits,
    in_script,
)

# --- the formats ----------------------------------------------------------------

FIRST = ("maria", "jan", "olga", "kenji", "fatima", "liam", "chloe", "rahul", "ines", "tomasz")
LAST = ("lopez", "kowalczyk", "ivanova", "tanaka", "haddad", "murphy", "dubois", "sharma")
DOMAINS = ("example.com", "mail.example.org", "empresa.com.br", "firma.de", "post.example.net")
INTL = (
    ("josé.müller", "bücher.de"),
    ("иван.петров", "пример.рф"),
    ("王伟", "例子.中国"),
    ("søren.ærø", "eksempel.dk"),
    ("محمد.علي", "مثال.مصر"),
)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _local(rng: random.Random) -> str:
    # Distinctive on purpose: the local part alone identifies the customer. Half have
    # no digit at all (a masker must not need one to look).
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if rng.random() < 0.5:
        return f"{first}.{rng.choice('abcdefghijklmnopqrstuvwxyz')}.{last}"
    return f"{first}.{last}{rng.randint(10, 99)}"


def _email(written: str, local: str, domain: str, fmt: str) -> Item:
    return Item("email", fmt, written, (f"{local}@{domain}", local))


def _emails(rng: random.Random, variant: str) -> Item:
    local, domain = _local(rng), rng.choice(DOMAINS)
    dotted = domain.replace(".", " dot ")
    written = {
        "plain": f"{local}@{domain}",
        "upper": f"{local}@{domain}".upper(),
        "words": f"{local} at {dotted}",
        "pct": f"{local}%40{domain}",
        "paren": f"{local}(at){domain.replace('.', '(dot)')}",
        "brackets": f"{local} [at] {domain.replace('.', ' [dot] ')}",
        "zw": f"{local[:3]}{ZWSP}{local[3:]}{ZWSP}@{ZWSP}{domain}",
        "fullwidth": f"{local}\uff20{domain.replace('.', chr(0xFF0E))}",
        "mailto": f"<mailto:{local}@{domain}>",
        "spaced": f"{local} @ {domain.replace('.', ' . ')}",
        "html-entity": f"{local}&#64;{domain}",
        "json-escaped": f"{local}\\u0040{domain}",
        "bidi": f"{local}{LRM}@{LRM}{domain}",
        "html-tags": f"{local}<span>@</span>{domain}",
        "html-href": f'<a href="mailto:{local}@{domain}">write to me</a>',
        "defanged": f"{local.replace('.', '[.]')}[@]{domain.replace('.', '[.]')}",
        "all-words": f"{local.replace('.', ' dot ')} at {dotted}",
        # A raw MIME body in quoted-printable: "=40" is "@", "=" + newline a soft break.
        "quoted-printable": f"{local}=40{domain}",
        "words-nbsp": f"{local} at {dotted}".replace(" ", NBSP),  # a rich-text editor's spaces
        "words-es": f"{local} arroba {domain.replace('.', ' punto ')}",
        "qp-soft-break": f"{local[:4]}=\n{local[4:]}@{domain}",
    }.get(variant)
    if variant == "quoted-local":  # RFC 5322 allows a quoted local part with spaces
        local = f'"{rng.choice(FIRST)} {rng.choice(LAST)}{rng.randint(10, 99)}"'
        written = f"{local}@{domain}"
    if variant == "plus-tag":
        local = f"{local}+billing"
        written = f"{local}@{domain}"
    if variant == "intl":
        local, domain = rng.choice(INTL)
        local = f"{local}{rng.randint(10, 99)}"
        written = f"{local}@{domain}"
    assert written is not None, variant
    return _email(written, local, domain, f"email/{variant}")


def _phone(fmt: str, written: str, *numbers: str) -> Item:
    digits = tuple(ascii_digits(n) for n in numbers)
    plain = digits[0] if len(digits) == 1 and written.lstrip("+").isdigit() else None
    number = int(plain) if plain and plain[0] != "0" else None
    return Item("phone", fmt, written, (written,), digits, number=number)


def _phones(rng: random.Random, variant: str) -> Item:

    def d(n: int) -> str:
        return _digits(rng, n)

    fmt = f"phone/{variant}"
    if variant == "known-case":
        # A property test's find: the second number lost only its first group.
        return _phone(fmt, "011-3079424) 091 9179386", "011-3079424", "091 9179386")
    # Every digit after the country code and trunk prefix is drawn: two plants of one
    # format share no run of seven digits, so a leak is counted against the right one.
    a, b, c = d(4), d(4), d(3)
    london, us = f"2{d(1)} {d(4)}", f"{rng.randint(201, 989)} {rng.randint(201, 989)}"
    written = {
        "e164": f"+44{london.replace(' ', '')}{a}",
        "e164-spaced": f"+44 {london} {a}",
        "uk-national": f"0{london} {a}",
        "uk-mobile": f"07{c} {d(6)}",
        "us-parens": f"({us[:3]}) {us[4:]}-{a}",
        "us-dots": f"{us.replace(' ', '.')}.{a}",
        "us-one": f"1-{us.replace(' ', '-')}-{a}",
        "de": rng.choice((f"030 {a}{b}", f"+49 (0)30 {a} {b}", f"0170/{d(7)}")),
        "fr": rng.choice((f"01 {d(2)} {d(2)} {d(2)} {d(2)}", f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}")),
        "br": rng.choice((f"(11) 9{a}-{b}", f"+55 11 9{a} {b}", f"+55 (21) 9{a}-{b}")),
        "in": rng.choice((f"+91 98{c} {d(5)}", f"098{c} {d(5)}", f"+91-98{d(8)}")),
        "intl-00": f"0044 {london} {a}",
        "nbsp": f"+44 {london} {a}".replace(" ", NBSP),
        "fullwidth": in_script(f"0{london} {a}", "fullwidth"),
        "arabic-indic": in_script(f"0{london} {a}", "arabic-indic"),
        "devanagari": in_script(f"+91 98{c} {d(5)}", "devanagari"),
        "tel-uri": f"tel:+44-{london.replace(' ', '-')}-{a}",
        "dotted-intl": f"+44.{london.replace(' ', '.')}.{a}",
        "html-nbsp": f"+44 {london} {a}".replace(" ", "&nbsp;"),
        "html-href": f'<a href="tel:+44{london.replace(" ", "")}{a}">call me</a>',
        "digit-by-digit": " ".join(f"0{london}{a}".replace(" ", "")),
        "ext": f"+1 {us} {a} ext. {c}",
    }[variant]
    return _phone(fmt, written, written.split(" ext.")[0])


CARD_BRANDS: dict[str, tuple[tuple[str, ...], int]] = {
    "visa": (("4",), 16),
    "mastercard": (("51", "53", "55", "2221", "2720"), 16),
    "amex": (("34", "37"), 15),
    "diners14": (("36", "300", "305"), 14),
    "discover": (("6011", "65"), 16),
    "jcb": (("3528", "3589"), 16),
    "visa13": (("4",), 13),
    "unionpay19": (("62",), 19),
    "visa19": (("4",), 19),
}
CARD_SEPARATORS = {
    "bare": "", "spaces": " ", "dashes": "-", "dots": ".", "nbsp": NBSP, "thin": THIN,
    "nnbsp": NNBSP, "slashes": "/", "zwsp": ZWSP, "space-dash": " - ", "newlines": "\n",
    "tabs": "\t", "url-encoded": "%20", "soft-hyphen": SOFT_HYPHEN, "bidi": LRM,
    "html-nbsp": "&nbsp;", "html-spans": "</span><span>", "quoted-printable": "=20",
    "form-encoded": "+",
}  # fmt: skip
HTML_ATTRIBUTE = '<input name="cc" value="{}">'  # a web form pasted into the ticket
CARD_VARIANTS = (*CARD_SEPARATORS, "fullwidth", "fullwidth-spaces", "arabic-indic", "devanagari",
                 "math-bold", "combining", "mixed", "digit-by-digit", "html-attribute",
                 "grouped")  # fmt: skip


def card_number(rng: random.Random, brand: str) -> str:
    """A Luhn-valid number of ``brand``; up to 16 digits, one that also fits a JSON
    number exactly (so it can be planted as one)."""
    prefixes, length = CARD_BRANDS[brand]
    while True:
        body = rng.choice(prefixes)
        body += _digits(rng, length - 1 - len(body))
        number = body + luhn.calc_check_digit(body)
        if length > 16 or int(number) < JSON_SAFE_INT:
            return number


def card_groups(number: str) -> list[str]:
    """How the brand prints it: Amex 4-6-5, Diners 4-6-4, 13 digits 4-3-3-3, others in fours."""
    if len(number) in (14, 15):
        return [number[:4], number[4:10], number[10:]]
    if len(number) == 13:
        return [number[:4], number[4:7], number[7:10], number[10:]]
    return [number[i : i + 4] for i in range(0, len(number), 4)]


def write_card(number: str, variant: str) -> str:
    """``number`` written in ``variant`` (a separator name, fullwidth, or 4-6-x grouping)."""
    groups = card_groups(number)
    if variant == "grouped":  # 4-6-4 / 4-6-5 even for 16 digits ("4111 111111 111111")
        groups = [number[:4], number[4:10], number[10:]]
        return " ".join(groups)
    if variant == "fullwidth":
        return in_script(number, "fullwidth")
    if variant in SCRIPT_ZEROS or variant == "fullwidth-spaces":
        return in_script(" ".join(groups), variant.removesuffix("-spaces"))
    if variant == "combining":  # every digit underlined with U+0332
        return " ".join("".join(c + "\u0332" for c in g) for g in groups)
    if variant == "digit-by-digit":  # a voice transcript: "four one one one ..." as digits
        return " ".join(number)
    if variant == "html-attribute":
        return HTML_ATTRIBUTE.format(" ".join(groups))
    if variant == "html-spans":  # rendered as one run of digits
        return "<span>" + "</span><span>".join(groups) + "</span>"
    if variant == "mixed":
        return "".join(
            g + (" -."[i % 3] if i < len(groups) - 1 else "") for i, g in enumerate(groups)
        )
    return CARD_SEPARATORS[variant].join(groups)


def card_item(number: str, variant: str) -> Item:
    """The card ``number`` as planted in format ``variant``."""
    written = write_card(number, variant)
    as_json = int(number) if int(number) < JSON_SAFE_INT else None
    return Item("card", f"card/{variant}", written, (written,), (number,), number=as_json)


def _cards(rng: random.Random, variant: str) -> Item:
    return card_item(card_number(rng, rng.choice(tuple(CARD_BRANDS))), variant)


IBAN_COUNTRIES = (
    "DE", "BE", "GB", "FR", "NL", "ES", "IT", "PL", "CH", "NO", "AT", "IE", "PT", "SE",
    "DK", "FI", "LU", "MT", "SA", "BR", "TR", "GR", "RO", "CZ", "HU",
)  # fmt: skip
KNOWN_IBANS = (
    "DE89370400440532013000", "BE68539007547034", "GB82WEST12345698765432",
    "FR1420041010050500013M02606",
)  # fmt: skip
_BBAN_PART = re.compile(r"(\d+)!([nac])")
_ALPHABETS = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_ALPHABETS["c"] = _ALPHABETS["n"] + _ALPHABETS["a"]


def iban_number(rng: random.Random, country: str) -> str:
    """A valid IBAN of ``country`` (mod 97 and the country's own checks)."""
    structure = iban._ibandb.info(country + "00")[0][1]["bban"]
    for _ in range(10_000):
        bban = "".join(
            "".join(rng.choice(_ALPHABETS[kind]) for _ in range(int(size)))
            for size, kind in _BBAN_PART.findall(structure)
        )
        number = country + iban.calc_check_digits(country + "00" + bban) + bban
        if iban.is_valid(number):
            return number
    raise AssertionError(f"no valid IBAN drawn for {country}")


def _ibans(rng: random.Random, variant: str) -> Item:
    if variant == "known":
        number = rng.choice(KNOWN_IBANS)
        variant_of = rng.choice(("spaces", "dashes", "compact"))
    else:
        number, variant_of = iban_number(rng, rng.choice(IBAN_COUNTRIES)), variant
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    written = {
        "compact": number,
        "spaces": " ".join(groups),
        "dashes": "-".join(groups),
        "lower": number.lower(),
        "lower-spaces": " ".join(groups).lower(),
        "nbsp": NBSP.join(groups),
        "mixed-case": " ".join(groups).capitalize(),
        "newlines": "\n".join(" ".join(groups[i : i + 3]) for i in range(0, len(groups), 3)),
        "dots": ".".join(groups),
        "html-attribute": f'<td data-iban="{" ".join(groups)}">on file</td>',
        "angle": f"<{number}>",
        "quoted-printable": "=20".join(groups),
        "cc-spaced": f"{number[:2]} {number[2:4]} " + " ".join(groups[1:]),
    }[variant_of]
    runs = tuple(r for r in re.findall(r"\d+", number[4:]) if len(r) >= DIGIT_WINDOW)
    return Item("iban", f"iban/{variant}", written, (written,), runs, (number,))


def _national(rng: random.Random, variant: str) -> Item:
    fmt = f"id/{variant}"
    if variant.startswith("ssn"):
        while not ssn.is_valid(number := _digits(rng, 9)):
            pass
        written = {
            "ssn-dashes": f"{number[:3]}-{number[3:5]}-{number[5:]}",
            "ssn-spaces": f"{number[:3]} {number[3:5]} {number[5:]}",
            "ssn-labelled": f"SSN {number}",
        }[variant]
        return Item("ssn", fmt, written, (written,), (number,), number=int(number))
    if variant.startswith("cpf"):
        while (body := _digits(rng, 9))[0] == "0" or len(set(body)) == 1:
            pass
        number = body + cpf._calc_check_digits(body)
        written = {
            "cpf-dotted": f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}",
            "cpf-bare": number,
        }[variant]
        return Item("cpf", fmt, written, (written,), (number,), number=int(number))
    if variant.startswith("nino"):
        prefix = "GB"
        while prefix in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):  # never issued
            prefix = rng.choice("ABCEGHJKLMNOPRSTWXYZ") + rng.choice("ABCEGHJKLMNPRSTWXYZ")
        number = f"{prefix}{_digits(rng, 6)}{rng.choice('ABCD')}"
        if variant == "nino-example":
            number = f"QQ{_digits(rng, 6)}C"  # HMRC's own example prefix: still masked
        written = {
            "nino-compact": number,
            "nino-example": number,
            "nino-spaced": f"{number[:2]} {number[2:4]} {number[4:6]} {number[6:8]} {number[8]}",
            "nino-dashes": f"{number[:2]}-{number[2:4]}-{number[4:6]}-{number[6:8]}-{number[8]}",
            "nino-lower": number.lower(),
            "nino-angle": f"<{number}>",  # a template's placeholder brackets left around it
        }[variant]
        return Item("nino", fmt, written, (written,), (), (number,))
    if variant.startswith("es"):
        if variant == "es-dni":
            body = _digits(rng, 8)
            number = body + dni.calc_check_digit(body)
        else:
            body = rng.choice("XYZ") + _digits(rng, 7)
            number = body + nie.calc_check_digit(body)
        return Item("es-id", fmt, number, (number,), (re.sub(r"\D", "", body),), (number,))
    if variant == "it-cf":
        letters = "".join(rng.choice("BCDFGHLMNPRSTVZ") for _ in range(6))
        body = f"{letters}{_digits(rng, 2)}{rng.choice('ABCDEHLMPRST')}{rng.randint(10, 28)}"
        body += f"{rng.choice('ABCDEFGHILM')}{_digits(rng, 3)}"
        number = body + codicefiscale.calc_check_digit(body)
        assert codicefiscale.is_valid(number), number
        return Item("it-cf", fmt, number, (number,), (), (number,))
    raise AssertionError(variant)


def _ips(rng: random.Random, variant: str) -> Item:
    v4 = f"{rng.choice((203, 198, 81, 92))}.{rng.randint(0, 255)}.{rng.randint(0, 255)}"
    v4 += f".{rng.randint(1, 254)}"
    h = [f"{rng.randint(1, 0xFFFF):x}" for _ in range(4)]
    v6 = f"2001:db8:{h[0]}:{h[1]}::{h[2]}:{h[3]}"
    written, secret = {
        "ipv4": (v4, v4),
        "ipv4-port": (f"{v4}:{rng.randint(1024, 65535)}", v4),
        "ipv4-mapped": (f"::ffff:{v4}", v4),
        "ipv4-defanged": (v4.replace(".", "[.]"), v4),
        "ipv6": (v6, v6),
        "ipv6-upper-brackets": (f"[{v6.upper()}]:443", v6),
        "ipv6-full": (ipaddress.IPv6Address(v6).exploded, ipaddress.IPv6Address(v6).exploded),
    }[variant]
    return Item("ip", f"ip/{variant}", written, (secret,))


_KINDS: dict[str, tuple[Callable[[random.Random, str], Item], tuple[str, ...]]] = {
    "email": (_emails, ("plain", "upper", "intl", "words", "pct", "paren", "brackets", "zw",
                        "fullwidth", "mailto", "spaced", "html-entity", "json-escaped", "bidi",
                        "plus-tag", "quoted-local", "html-tags", "html-href", "defanged",
                        "all-words", "quoted-printable", "qp-soft-break", "words-nbsp",
                        "words-es")),
    "phone": (_phones, ("e164", "e164-spaced", "uk-national", "uk-mobile", "us-parens",
                        "us-dots", "us-one", "de", "fr", "br", "in", "intl-00", "nbsp",
                        "fullwidth", "arabic-indic", "devanagari", "tel-uri", "dotted-intl",
                        "html-nbsp", "html-href", "digit-by-digit", "ext", "known-case")),
    "card": (_cards, CARD_VARIANTS),
    "iban": (_ibans, ("compact", "spaces", "dashes", "lower", "lower-spaces", "nbsp",
                      "mixed-case", "newlines", "dots", "cc-spaced", "html-attribute",
                      "angle", "quoted-printable", "known")),
    "id": (_national, ("ssn-dashes", "ssn-spaces", "ssn-labelled", "cpf-dotted", "cpf-bare",
                       "nino-compact", "nino-example", "nino-spaced", "nino-dashes",
                       "nino-lower", "nino-angle", "es-dni", "es-nie", "it-cf")),
    "ip": (_ips, ("ipv4", "ipv4-port", "ipv4-mapped", "ipv4-defanged", "ipv6",
                  "ipv6-upper-brackets", "ipv6-full")),
}  # fmt: skip
FORMATS: tuple[str, ...] = tuple(f"{k}/{v}" for k, (_, vs) in _KINDS.items() for v in vs)


# The first vendor's agent, as its login reads: a person of another company, whom the
# next pool must not learn about any more than about the customer.
OTHER_VENDOR_AGENT = Item("agent", "agent/login", "olga.novak.acme", ("olga.novak.acme",))


def plant(fmt: str, seed: int) -> Item:
    """The item of format ``fmt`` (e.g. ``card/dots``) drawn from ``seed``."""
    kind, variant = fmt.split("/", 1)
    make, variants = _KINDS[kind]
    if variant not in variants:
        raise ValueError(f"unknown format {fmt!r}")
    return make(random.Random(f"{fmt}:{seed}"), variant)

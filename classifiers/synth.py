"""Synthetic, labelled, multilingual support tickets.

They train the shipped default model and feed tests and benchmarks. Each ticket
has the inbound ticket shape (``id``, ``subject``, ``body``, ``customer``,
``channel``, ``created_at``, ``priority``, ``tags``, ``source``) plus the truth
under ``"labels"`` (``tier``, ``category``, ``language``) and the customer's
real zone under ``labels["timezone"]``. Names, e-mail addresses, phone numbers,
addresses and dates come from ``Faker`` in the customer's locale, so the
classifiers learn to look past personal data.

Every ticket may have a greeting, context, a second minor request, typos, a
closing and a signature. ``realistic=True`` adds, from a random generator of
its own (so the other tickets' texts stay the same): more second requests,
more kinds of typos (a letter dropped or doubled, accents lost), a mail
client's footer and the agent's earlier reply quoted under the message.
"""

from __future__ import annotations

import functools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from faker import Faker

from classifiers.synth_phrases import (
    AGENT_REPLIES,
    ALSO,
    CLIENT_FOOTERS,
    CLOSINGS,
    CONTEXT,
    GREETINGS,
    PRODUCTS,
    QUOTE_HEADERS,
    URGENCY,
)
from classifiers.synth_requests import REQUESTS

CATEGORIES = ("billing", "account", "technical", "shipping", "feedback", "other")
TIERS = ("tier1", "tier2")
CHANNELS = ("email", "chat", "phone", "web", "social")

# Faker locale, ISO country and IANA zone of the customers writing each language.
LOCALES: dict[str, list[tuple[str, str, str]]] = {
    "en": [
        ("en_US", "US", "America/New_York"),
        ("en_US", "US", "America/Chicago"),
        ("en_US", "US", "America/Los_Angeles"),
        ("en_GB", "GB", "Europe/London"),
        ("en_AU", "AU", "Australia/Sydney"),
        ("en_IN", "IN", "Asia/Kolkata"),
        ("en_CA", "CA", "America/Toronto"),
    ],
    "es": [
        ("es_ES", "ES", "Europe/Madrid"),
        ("es_MX", "MX", "America/Mexico_City"),
        ("es_CO", "CO", "America/Bogota"),
        ("es_AR", "AR", "America/Argentina/Buenos_Aires"),
    ],
    "pt": [("pt_BR", "BR", "America/Sao_Paulo"), ("pt_PT", "PT", "Europe/Lisbon")],
    "fr": [
        ("fr_FR", "FR", "Europe/Paris"),
        ("fr_CA", "CA", "America/Montreal"),
        ("fr_CH", "CH", "Europe/Zurich"),
    ],
    "de": [
        ("de_DE", "DE", "Europe/Berlin"),
        ("de_AT", "AT", "Europe/Vienna"),
        ("de_CH", "CH", "Europe/Zurich"),
    ],
    "it": [("it_IT", "IT", "Europe/Rome")],
}

# Rough share of each language among the generated tickets.
LANGUAGE_WEIGHTS: dict[str, float] = {
    "en": 0.3,
    "es": 0.18,
    "pt": 0.14,
    "fr": 0.14,
    "de": 0.14,
    "it": 0.1,
}
CATEGORY_WEIGHTS: dict[str, float] = {
    "billing": 0.2,
    "account": 0.18,
    "technical": 0.22,
    "shipping": 0.22,
    "feedback": 0.08,
    "other": 0.1,
}
PLANS = ("free", "basic", "pro", "enterprise")


@functools.cache
def _faker(locale: str) -> Faker:
    """One Faker per locale (building one costs milliseconds), reseeded per ticket."""
    return Faker(locale)


def generate_tickets(
    n: int, seed: int, *, label_noise: float = 0.0, realistic: bool = False
) -> list[dict[str, Any]]:
    """``n`` labelled tickets, the same for the same ``seed`` on every machine.

    ``label_noise`` is the share of tickets whose tier or category label is
    replaced by a random one, as happens in real helpdesk exports; the
    default keeps every label true to the text. ``realistic`` adds what mail
    brings along (see the module docstring); labels stay those of the main
    request.
    """
    rng = random.Random(seed)
    langs = list(LANGUAGE_WEIGHTS)
    lang_w = list(LANGUAGE_WEIGHTS.values())
    cats = list(CATEGORY_WEIGHTS)
    cat_w = list(CATEGORY_WEIGHTS.values())
    start = datetime(2024, 1, 1, tzinfo=UTC)
    # Its own generator, so noisy and clean runs produce the same texts.
    noise = random.Random(seed + 0x5EED)
    extra = random.Random(seed + 0xEA1) if realistic else None
    tickets = []
    for i in range(n):
        lang, category = rng.choices(langs, lang_w)[0], rng.choices(cats, cat_w)[0]
        ticket = _ticket(i, rng, lang, category, start, extra)
        if label_noise and noise.random() < label_noise:
            task = noise.choice(["tier", "category"])
            ticket["labels"][task] = noise.choice(TIERS if task == "tier" else CATEGORIES)
        tickets.append(ticket)
    return tickets


def _ticket(
    index: int,
    rng: random.Random,
    lang: str,
    category: str,
    start: datetime,
    extra: random.Random | None = None,
) -> dict[str, Any]:
    """One ticket; every random choice comes from ``rng`` so runs repeat exactly, and
    the realistic additions from ``extra`` (none when it is ``None``)."""
    locale, country, zone = rng.choice(LOCALES[lang])
    fake = _faker(locale)
    fake.seed_instance(rng.getrandbits(32))
    tier = rng.choices(TIERS, (0.62, 0.38))[0]
    cells = REQUESTS[lang].get((category, tier)) or REQUESTS[lang][(category, "tier1")]
    subject, request = rng.choice(cells)
    name = fake.name()
    first = name.split()[0]
    fields = {
        "order": rng.choice(["#", "", "A-", "ORD-"]) + str(rng.randint(10000, 9999999)),
        "amount": rng.choice(["$", "€", "£", "R$ "])
        + f"{rng.randint(5, 900)}.{rng.randint(0, 99):02d}",
        "product": rng.choice(PRODUCTS),
        "date": fake.date_between(start_date="-90d", end_date="today").strftime(
            rng.choice(["%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y"])
        ),
        "days": str(rng.randint(3, 40)),
    }
    request = request.format(**fields)
    urgent = tier == "tier2" and rng.random() < 0.35
    phone = fake.phone_number()
    email = fake.email()
    if rng.random() < 0.25:
        # Chat style: one short lower-case line, no greeting or signature.
        body = _typos(request.lower() if rng.random() < 0.6 else request, rng, 0.08)
        subject = "" if rng.random() < 0.5 else subject
    else:
        parts = [rng.choice(GREETINGS[lang])]
        if rng.random() < 0.3:
            parts.append(rng.choice(CONTEXT[lang]).format(days=rng.randint(2, 12)))
        parts.append(request)
        if rng.random() < 0.12:
            other = rng.choice([c for c in CATEGORIES if c != category])
            parts.append(
                rng.choice(ALSO[lang])
                + " "
                + _lower_first(rng.choice(REQUESTS[lang][(other, "tier1")])[1].format(**fields))
            )
        if urgent:
            parts.append(rng.choice(URGENCY[lang]))
        if rng.random() < 0.2:
            parts.append(fake.sentence(nb_words=rng.randint(6, 14)))
        signature = [rng.choice(CLOSINGS[lang]), name]
        if rng.random() < 0.4:
            signature.append(phone)
        if rng.random() < 0.15:
            signature.append(email)
        if rng.random() < 0.2:
            signature.append(fake.address().replace("\n", ", "))
        sep = "\n\n" if rng.random() < 0.7 else "\n-- \n"
        text = "\n".join(p for p in parts if p)
        text = _typos(text, rng, 0.03)
        if extra is not None:
            # Added after the typos drawn from rng, so the plain tickets stay the same.
            if extra.random() < 0.15:
                other = extra.choice([c for c in CATEGORIES if c != category])
                second = extra.choice(REQUESTS[lang][(other, "tier1")])[1].format(**fields)
                text += "\n" + extra.choice(ALSO[lang]) + " " + _lower_first(second)
            text = _slips(text, extra, 0.02)
        body = text + sep + "\n".join(signature)
        if extra is not None:
            body = _mail_extras(body, lang, fields, extra)
    if subject and rng.random() < 0.15:
        subject = f"{subject} - {fields['order']}"
    if rng.random() < 0.08:
        subject = ""
    customer: dict[str, Any] = {"id": f"c-{rng.randint(1, 10**9)}", "email": email}
    if rng.random() < 0.6:
        customer["phone"] = phone
    if rng.random() < 0.6:
        customer["locale"] = locale.replace("_", "-")
    if rng.random() < 0.3:
        customer["timezone"] = zone
    if rng.random() < 0.5:
        customer["country"] = country
    customer["plan"] = rng.choice(PLANS)
    created = start + timedelta(minutes=rng.randint(0, 60 * 24 * 365))
    priority = rng.choice(["high", "urgent"]) if urgent else rng.choice(["low", "normal", "normal"])
    return {
        "id": f"t-{index:07d}-{rng.getrandbits(32):08x}",
        "subject": subject,
        "body": body or first,
        "customer": customer,
        "channel": rng.choice(CHANNELS),
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "priority": priority,
        "tags": [category] if rng.random() < 0.2 else [],
        "source": rng.choice(["zendesk", "freshdesk", "chatwoot", "web-form"]),
        "labels": {"tier": tier, "category": category, "language": lang, "timezone": zone},
    }


def _typos(text: str, rng: random.Random, rate: float) -> str:
    """Swap two neighbouring letters in about ``rate`` of the words."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and rng.random() < rate:
            k = rng.randrange(len(word) - 1)
            words[i] = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    return " ".join(words)


def _mail_extras(body: str, lang: str, fields: dict[str, str], extra: random.Random) -> str:
    """``body`` with maybe a mail client's footer and the agent's earlier reply quoted."""
    if extra.random() < 0.15:
        body += "\n\n" + extra.choice(CLIENT_FOOTERS[lang])
    if extra.random() < 0.2:
        agent = _faker(LOCALES[lang][0][0])
        agent.seed_instance(extra.getrandbits(32))
        header = extra.choice(QUOTE_HEADERS[lang]).format(
            date=fields["date"], name=agent.name(), email=agent.company_email()
        )
        lines = extra.sample(AGENT_REPLIES[lang], extra.randint(2, 4))
        quoted = "\n".join("> " + line.format(**fields) for line in lines)
        body += "\n\n" + header + "\n" + quoted
    return body


def _slips(text: str, rng: random.Random, rate: float) -> str:
    """Drop or double a letter, or lose an accent, in about ``rate`` of the words."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and rng.random() < rate:
            k = rng.randrange(1, len(word) - 1)
            kind = rng.randrange(3)
            if kind == 0:
                words[i] = word[:k] + word[k + 1 :]
            elif kind == 1:
                words[i] = word[:k] + word[k] + word[k:]
            else:
                words[i] = word.translate(_PLAIN)
    return " ".join(words)


# Accented letters as a keyboard without them writes them.
_PLAIN = str.maketrans(
    "áàâãäéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑß",
    "aaaaaeeeeiiiiooooouuuucnAAAAAEEEEIIIIOOOOOUUUUCNs",
)


def _lower_first(text: str) -> str:
    """``text`` with its first letter in lower case (it follows "Also,")."""
    return text[:1].lower() + text[1:]


def ticket_text(ticket: dict[str, Any]) -> str:
    """Subject and body as one text, as the service gives it to the classifiers."""
    subject = str(ticket.get("subject") or "")
    body = str(ticket.get("body") or "")
    if subject and body:
        return f"{subject}\n{body}"
    return subject or body

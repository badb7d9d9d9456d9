"""Text that is not a support request the generator knows: the default model's "unknown".

The shipped tier and category heads learn from synthetic tickets alone, so on real
tickets they know little. To make them say so, their confidence is calibrated on
held-out synthetic tickets *and* on these texts, where the right answer is "no
idea" (every class equally likely; see :func:`classifiers.build.fit_temperature_with_unknowns`).
Everything comes from packages on every machine, nothing is downloaded:

* word salad drawn by frequency from ``wordfreq`` (the six ticket languages and a
  few others): real vocabulary, no request;
* ``Faker`` paragraphs in the ticket locales (filler prose);
* ticket shells: a greeting, a context sentence, a closing and a name, as in the
  generated tickets, with the request left out.
"""

from __future__ import annotations

import random

import numpy as np
from faker import Faker

from classifiers.langid import available_languages, pseudo_sentences, word_frequencies
from classifiers.synth_phrases import CLOSINGS, CONTEXT, GREETINGS

TICKET_LANGUAGES = ("en", "es", "pt", "fr", "de", "it")
# A few languages the synthetic tickets never use: a ticket in one of them is unknown too.
OTHER_LANGUAGES = ("nl", "pl", "ru", "tr", "ja", "id")
FAKER_LOCALES = ("en_US", "es_ES", "pt_BR", "fr_FR", "de_DE", "it_IT")
WORDS_PER_LANGUAGE = 8000


def out_of_domain_texts(n: int, seed: int) -> list[str]:
    """``n`` texts, a third of each kind, the same for the same ``seed`` everywhere."""
    rng = random.Random(seed)
    draw = np.random.default_rng(seed)
    salad_n = n // 3
    prose_n = n // 3
    shells_n = n - salad_n - prose_n
    codes = available_languages()
    languages = [lang for lang in (*TICKET_LANGUAGES, *OTHER_LANGUAGES) if lang in codes]
    out: list[str] = []
    # Two thirds of the word salad in the ticket languages, where confusion costs most.
    picks = [
        languages[k % len(TICKET_LANGUAGES)] if k % 3 else rng.choice(languages)
        for k in range(salad_n)
    ]
    for lang in dict.fromkeys(picks):
        words, freqs = word_frequencies(codes[lang], WORDS_PER_LANGUAGE)
        out.extend(pseudo_sentences(words, freqs, picks.count(lang), draw, 6, 60))
    fakers = {locale: Faker(locale) for locale in FAKER_LOCALES}
    for k in range(prose_n):
        fake = fakers[FAKER_LOCALES[k % len(FAKER_LOCALES)]]
        fake.seed_instance(rng.getrandbits(32))
        out.append(fake.paragraph(nb_sentences=rng.randint(1, 4)))
    for k in range(shells_n):
        lang = TICKET_LANGUAGES[k % len(TICKET_LANGUAGES)]
        fake = fakers[FAKER_LOCALES[k % len(FAKER_LOCALES)]]
        fake.seed_instance(rng.getrandbits(32))
        parts = [
            rng.choice(GREETINGS[lang]),
            rng.choice(CONTEXT[lang]).format(days=rng.randint(2, 12)),
            rng.choice(CLOSINGS[lang]),
            fake.name(),
        ]
        out.append("\n".join(p for p in parts if p))
    return out

"""Language identification: our model side by side with lingua, in one run.

    python tests/bench/bench_langid.py --data DATA/langid-dev [--model DIR]

Both classifiers see exactly the same texts and the same set of candidate
languages (lingua restricted to the languages our model knows, high-accuracy
mode). Neither was trained on any of these texts. Test sets:

* ``word-pairs``: the two-word news phrases of ``<data>/word-pairs/<lang>.txt``
  (hard: about two words of evidence);
* ``10-word texts``: five random lines of the same file joined (ten real words
  from news text; the closest thing to sentences in the development data);
* ``faker sentences``: 8-14-word sentences from Faker's word lists for the
  locales that have real word lists in their language (random word order);
* ``tickets``: the synthetic tickets of ``classifiers.synth`` (six languages,
  with names, addresses, phone numbers and signatures mixed in);
* ``hard-pair sentences``: one to three hand-written full sentences
  (``tests/bench/langid_sentences.py``) in Malay, Indonesian, Catalan and Urdu.

Prints accuracy per set for both, the accuracy for Malay, Indonesian, Catalan
and Urdu (``FOCUS``) and what they were taken for, the languages where the two
differ most, and throughput (single thread for both). ``--without-markers``
adds ours without the Malay/Indonesian marker decision (``ours-nm``) to every
set, and the decision's cost, both in the same run.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from faker import Faker
from lingua import IsoCode639_1, LanguageDetectorBuilder

from classifiers.langid import predict_languages
from classifiers.paths import default_model_dir
from classifiers.store import StoredHead, load_head, read_manifest
from classifiers.synth import generate_tickets, ticket_text
from tests.bench.langid_sentences import sentence_texts

# Faker locales whose lorem provider has real words of the language.
FAKER_LOCALES = {
    "ar": "ar_AA", "bn": "bn_BD", "cs": "cs_CZ", "da": "da_DK", "de": "de_DE",
    "el": "el_GR", "en": "en_US", "es": "es_ES", "fa": "fa_IR", "fr": "fr_FR",
    "he": "he_IL", "it": "it_IT", "ja": "ja_JP", "mk": "mk_MK", "nl": "nl_NL",
    "pl": "pl_PL", "ru": "ru_RU", "tl": "tl_PH", "uk": "uk_UA", "vi": "vi_VN",
    "zh": "zh_CN",
}  # fmt: skip

Labelled = list[tuple[str, str]]
# The close pairs reported language by language: Malay/Indonesian, Catalan
# (against Spanish), Urdu (against Persian and Arabic in the same script).
FOCUS = ("ms", "id", "ca", "ur")


def word_pairs(data: Path, langs: Sequence[str]) -> dict[str, list[str]]:
    """Lines of each language's word-pairs file."""
    out = {}
    for lang in langs:
        path = data / "word-pairs" / f"{lang}.txt"
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            out[lang] = [line.strip() for line in lines if line.strip()]
    return out


def joined_texts(pairs: dict[str, list[str]], lines_per_text: int, seed: int) -> Labelled:
    """Texts of ``lines_per_text`` random lines of one language, each line used once."""
    rng = random.Random(seed)
    out: Labelled = []
    for lang, lines in pairs.items():
        shuffled = lines[:]
        rng.shuffle(shuffled)
        for k in range(0, len(shuffled) - lines_per_text + 1, lines_per_text):
            out.append((" ".join(shuffled[k : k + lines_per_text]), lang))
    return out


def faker_sentences(langs: Sequence[str], per_lang: int, seed: int) -> Labelled:
    """Sentences from Faker's per-locale word lists."""
    out: Labelled = []
    for lang in langs:
        locale = FAKER_LOCALES.get(lang)
        if locale is None:
            continue
        fake = Faker(locale)
        fake.seed_instance(seed)
        for _ in range(per_lang):
            out.append((fake.sentence(nb_words=11, variable_nb_words=True), lang))
    return out


def ours(stored: StoredHead, malay_indonesian: bool = True) -> Callable[[list[str]], list[str]]:
    """Our language head (with its script rule, and its Malay/Indonesian markers unless
    ``malay_indonesian`` is false) as a batch function."""

    def run(texts: list[str]) -> list[str]:
        out: list[str] = []
        for k in range(0, len(texts), 256):
            batch = texts[k : k + 256]
            out.extend(
                predict_languages(
                    stored.head, batch, stored.spec, malay_indonesian=malay_indonesian
                )[0]
            )
        return out

    return run


def marker_cost(name: str, stored: StoredHead, data: Labelled, rounds: int = 7) -> None:
    """Ours with and without the Malay/Indonesian markers, taking turns batch by batch
    (texts shuffled, so batches mix languages): each batch's fastest of ``rounds``."""
    texts = [t for t, _ in data]
    random.Random(0).shuffle(texts)
    best = {False: 0.0, True: 0.0}
    for k in range(0, len(texts), 256):
        batch = texts[k : k + 256]
        runs: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(rounds):
            for flag in (False, True):
                started = time.perf_counter()
                predict_languages(stored.head, batch, stored.spec, malay_indonesian=flag)
                runs[flag].append(time.perf_counter() - started)
        for flag in (False, True):
            best[flag] += min(runs[flag])
    n = len(texts)
    print(
        f"  markers' cost on {name}: {n / best[True]:,.0f} texts/s with, {n / best[False]:,.0f} "
        f"without ({(best[True] - best[False]) / n * 1e6:.2f} us per text; batches of 256, "
        f"each batch's fastest of {rounds}, taking turns)"
    )


def lingua_for(langs: Sequence[str]) -> Callable[[list[str]], list[str]]:
    """lingua, high-accuracy mode, restricted to ``langs``, one thread."""
    codes = [getattr(IsoCode639_1, lang.upper()) for lang in langs]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
    detector = builder.with_preloaded_language_models().build()

    def run(texts: list[str]) -> list[str]:
        out = []
        for text in texts:
            found = detector.detect_language_of(text)
            out.append(found.iso_code_639_1.name.lower() if found is not None else "??")
        return out

    return run


def score(name: str, data: Labelled, systems: dict[str, Callable[[list[str]], list[str]]]) -> None:
    """Print accuracy and speed of every system on one test set."""
    texts = [t for t, _ in data]
    truth = [lang for _, lang in data]
    n_langs = len(set(truth))
    print(
        f"\n== {name}: {len(texts)} texts, {n_langs} languages, "
        f"mean {sum(map(len, texts)) / max(len(texts), 1):.0f} chars"
    )
    per_lang: dict[str, dict[str, list[int]]] = {}
    for sys_name, run in systems.items():
        started = time.perf_counter()
        predicted = run(texts)
        seconds = time.perf_counter() - started
        right = [int(p == t) for p, t in zip(predicted, truth, strict=True)]
        acc = sum(right) / len(right)
        by_lang: dict[str, list[int]] = defaultdict(list)
        for ok, lang in zip(right, truth, strict=True):
            by_lang[lang].append(ok)
        per_lang[sys_name] = by_lang
        macro = sum(sum(v) / len(v) for v in by_lang.values()) / len(by_lang)
        print(
            f"  {sys_name:8s} accuracy {acc:.4f}  (macro over languages {macro:.4f})  "
            f"{len(texts) / seconds:,.0f} texts/s"
        )
        focus = []
        for lang in FOCUS:
            if lang in by_lang:
                taken = Counter(
                    p for p, t in zip(predicted, truth, strict=True) if t == lang and p != lang
                )
                also = ", ".join(f"{other} {n}" for other, n in taken.most_common(2))
                share = sum(by_lang[lang]) / len(by_lang[lang])
                focus.append(f"{lang} {share:.3f}" + (f" ({also})" if also else ""))
        if focus:
            print(f"           {'; '.join(focus)}")
    if len(per_lang) >= 2:
        a, b = list(per_lang)[:2]
        gaps = sorted(
            ((sum(per_lang[a][lang]) - sum(per_lang[b][lang])) / len(per_lang[a][lang]), lang)
            for lang in per_lang[a]
        )
        worst = ", ".join(f"{lang} {gap:+.3f}" for gap, lang in gaps[:5])
        best = ", ".join(f"{lang} {gap:+.3f}" for gap, lang in gaps[::-1][:5])
        print(f"  {a} minus {b}, per language: best {best}; worst {worst}")


def main() -> None:
    """Run every test set for both classifiers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of <iso639-1>.txt files")
    parser.add_argument("--model", type=Path, default=default_model_dir())
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-lingua", action="store_true")
    parser.add_argument(
        "--without-markers",
        action="store_true",
        help="also run ours without the Malay/Indonesian markers (ours-nm), same run",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    stored = load_head(args.model, read_manifest(args.model), "language")
    print(
        f"our model: {args.model} ({len(stored.head.classes)} languages), "
        f"loaded in {time.perf_counter() - started:.2f}s"
    )
    langs = sorted(stored.head.classes)
    systems = {"ours": ours(stored)}
    if args.without_markers:
        systems["ours-nm"] = ours(stored, malay_indonesian=False)
    if not args.skip_lingua:
        started = time.perf_counter()
        systems["lingua"] = lingua_for(langs)
        print(
            f"lingua {len(langs)} languages, high accuracy, "
            f"loaded in {time.perf_counter() - started:.1f}s"
        )

    pairs = word_pairs(args.data, langs)
    missing = sorted(set(langs) - set(pairs))
    if missing:
        print(f"no word-pairs file for: {', '.join(missing)}")
    score("word-pairs", [(line, lang) for lang, lines in pairs.items() for line in lines], systems)
    ten_words = joined_texts(pairs, 5, args.seed)
    score("10-word texts (5 word-pair lines joined)", ten_words, systems)
    score("faker sentences", faker_sentences(langs, 200, args.seed), systems)
    tickets = generate_tickets(600, args.seed + 1000)
    score(
        "synthetic tickets", [(ticket_text(t), t["labels"]["language"]) for t in tickets], systems
    )
    sentences = sentence_texts(200, args.seed)
    score("hard-pair sentences (1-3 sentences)", sentences, systems)
    if args.without_markers:
        print()
        marker_cost("10-word texts", stored, ten_words)
        marker_cost("hard-pair sentences", stored, sentences)


if __name__ == "__main__":
    main()

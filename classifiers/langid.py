"""Language identification trained from the word statistics shipped in ``wordfreq``.

The training data is reproducible on any machine with the ``wordfreq`` package
and nothing is downloaded. A multinomial Naive Bayes over character n-grams and
words is the classic model for language identification (Cavnar & Trenkle;
langid.py): its expected n-gram counts are computed exactly from the word
frequencies -- every word of the top list weighted by how often it occurs --
instead of from sampled text. Pseudo-sentences sampled by frequency are used
only to calibrate the confidences and to check the head.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from classifiers.features import FeatureSpec, featurize
from classifiers.linear import LinearHead, best_of, fit_temperature
from classifiers.textclean import SEP, Prepared, prepare

# wordfreq code -> ISO 639-1 code reported by the model. wordfreq's "sh" is
# Serbo-Croatian transliterated to Latin script: reported as Croatian. Its "fil"
# (Filipino) is reported as "tl", the ISO 639-1 code of Tagalog it is based on.
WORDFREQ_CODES: dict[str, str] = {"fil": "tl", "sh": "hr"}

# Orders 1, 3 and 5 rather than 1-5: overlapping orders repeat the same
# evidence, which Naive Bayes counts several times; skipping 2 and 4 was both
# faster and more accurate on held-out text.
LANGUAGE_SPEC = FeatureSpec(
    char_orders=(1, 3, 5),
    words=True,
    word_bigrams=False,
    digits=False,
    bits=18,
    max_chars=120,
    normalise=False,
)

Progress = Callable[[str], None]

# A score far below any real one: the language is ruled out, the softmax stays finite.
RULED_OUT = -1e4


def available_languages() -> dict[str, str]:
    """ISO 639-1 code -> wordfreq code for every language with a "best" word list."""
    import wordfreq  # training only: a served model does not need the word lists

    langs = sorted(wordfreq.available_languages("best"))
    return {WORDFREQ_CODES.get(code, code): code for code in langs}


def word_frequencies(wordfreq_code: str, n_words: int) -> tuple[list[str], npt.NDArray[np.float64]]:
    """The ``n_words`` most frequent words of a language and their frequencies.

    Reads wordfreq's list of frequency buckets (one per centibel, most frequent
    first) through ``__wrapped__``, bypassing its unbounded cache: cached, the
    42 lists would hold over a gigabyte for the rest of the process.
    """
    import wordfreq

    buckets = wordfreq.get_frequency_list.__wrapped__(wordfreq_code, "best")
    words: list[str] = []
    freqs: list[float] = []
    for index, bucket in enumerate(buckets):
        take = bucket[: n_words - len(words)]
        words.extend(take)
        freqs.extend([10.0 ** (-index / 100)] * len(take))
        if len(words) >= n_words:
            break
    return words, np.array(freqs, dtype=np.float64)


def pseudo_sentences(
    words: Sequence[str],
    freqs: npt.NDArray[np.float64],
    n: int,
    rng: np.random.Generator,
    min_words: int = 2,
    max_words: int = 12,
) -> list[str]:
    """``n`` texts of words drawn by frequency (a unigram language model)."""
    p = freqs / freqs.sum()
    lengths = rng.integers(min_words, max_words + 1, size=n)
    picks = rng.choice(len(words), size=int(lengths.sum()), p=p)
    out: list[str] = []
    pos = 0
    for length in lengths:
        out.append(" ".join(words[i] for i in picks[pos : pos + length]))
        pos += int(length)
    return out


def train_language_head(
    *,
    languages: Sequence[str] | None = None,
    n_words: int = 30000,
    alpha: float = 0.01,
    calibration_texts: int = 150,
    seed: int = 0,
    spec: FeatureSpec = LANGUAGE_SPEC,
    progress: Progress | None = None,
) -> tuple[LinearHead, dict[str, float]]:
    """Train the language head; returns it and a few held-out figures.

    ``languages`` (ISO 639-1 codes) restricts the head, e.g. for quick tests;
    ``alpha`` is the additive smoothing of the n-gram probabilities. Buckets no
    language ever produced get no weight (they cannot tell languages apart).
    """
    say = progress or (lambda _msg: None)
    langs = available_languages()
    if languages is not None:
        unknown = sorted(set(languages) - set(langs))
        if unknown:
            raise ValueError(f"no word statistics for {unknown}; known: {sorted(langs)}")
        langs = {iso: code for iso, code in langs.items() if iso in languages}
    rng = np.random.default_rng(seed)
    counts = np.zeros((spec.n_features, len(langs)), dtype=np.float64)
    held_texts: list[str] = []
    held_labels: list[int] = []
    started = time.perf_counter()
    for k, (iso, code) in enumerate(langs.items()):
        words, freqs = word_frequencies(code, n_words)
        x = featurize(words, spec, normalise=False)
        counts[:, k] = x.T @ (freqs / freqs.sum())
        held = pseudo_sentences(words, freqs, calibration_texts, rng)
        held_texts.extend(held)
        held_labels.extend([k] * len(held))
        say(f"language {k + 1}/{len(langs)} {iso}: {len(words)} words")
    # Expected counts per unit of text; scale so alpha is comparable across languages.
    counts *= 1e4
    log_p = np.log(counts + alpha) - np.log(
        counts.sum(axis=0, keepdims=True) + alpha * counts.shape[0]
    )
    # Subtracting the per-bucket mean changes every class's score by the same
    # amount for a given text, so the softmax is unchanged; unseen buckets then
    # have exactly zero weight and are dropped from the stored model.
    log_p -= log_p.mean(axis=1, keepdims=True)
    log_p[counts.sum(axis=1) == 0] = 0.0
    head = LinearHead.from_dense(list(langs), log_p, np.zeros(len(langs)))
    target = np.array(held_labels, dtype=np.int64)
    scores = head.scores(featurize(held_texts, spec))
    temperature = fit_temperature(scores, target)
    head = LinearHead(head.classes, head.rows, head.weights, head.intercept, temperature)
    accuracy = float(np.mean(scores.argmax(axis=1) == target))
    say(
        f"language head: {len(langs)} languages, pseudo-sentence accuracy {accuracy:.4f}, "
        f"temperature {temperature:.3f}, {time.perf_counter() - started:.1f}s"
    )
    return head, {"pseudo_sentence_accuracy": accuracy, "temperature": temperature}


def script_bias(batch: Prepared, classes: Sequence[str]) -> npt.NDArray[np.float32]:
    """Score adjustments that rule out languages the writing system excludes.

    Japanese text mixes kanji with kana; text with Chinese characters and no
    kana at all is Chinese (a few kanji alone are ambiguous to the n-grams,
    which then lean to Japanese). Every other script decision is left to the
    n-gram statistics, which learn it from the letters themselves.
    """
    bias = np.zeros((batch.n_docs, len(classes)), dtype=np.float32)
    if "ja" not in classes or "zh" not in classes or batch.n_docs == 0:
        return bias
    cps = batch.cps
    doc = np.cumsum(cps == SEP)
    han = ((cps >= 0x4E00) & (cps <= 0x9FFF)) | ((cps >= 0x3400) & (cps <= 0x4DBF))
    kana = (cps >= 0x3040) & (cps <= 0x30FF)
    has_han = np.bincount(doc[han], minlength=batch.n_docs) > 0
    has_kana = np.bincount(doc[kana], minlength=batch.n_docs) > 0
    bias[has_han & ~has_kana, list(classes).index("ja")] = RULED_OUT
    return bias


def predict_languages(
    head: LinearHead, texts: Sequence[str], spec: FeatureSpec = LANGUAGE_SPEC
) -> tuple[list[str], list[float]]:
    """Language and confidence of each text, as the model bundle predicts them."""
    batch = prepare(texts)
    scores = head.scores(featurize(batch, spec)) + script_bias(batch, head.classes)
    best, conf = best_of(scores, head.temperature)
    return [head.classes[i] for i in best.tolist()], conf.tolist()

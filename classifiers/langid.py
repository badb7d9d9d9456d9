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

import re
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


# Malay and Indonesian: one language in two standards, which the n-gram head tells
# apart poorly (wordfreq's Malay list holds Indonesian text too). When they are the
# head's two best guesses, words that one standard writes and the other does not
# decide (Malay kerana, bahawa, wang, akaun; Indonesian karena, bahwa, bisa, uang).
# Each marker weighs its Zipf frequency in its own standard minus that in the other
# (wordfreq; a word absent from a list counts 0), capped at MARKER_CAP; the sign
# says the standard: positive Malay, negative Indonesian. Words both standards use
# (sudah, bila, sebab, saja, daripada, mempunyai) are no markers, however their
# frequencies differ, nor are words that mean something else in the other standard
# (Indonesian "boleh saya tahu" is "may I know"; there "pejabat" is an official,
# "percuma" in vain, "kereta" a train, "polis" an insurance policy).
# `marker_weights()` recomputes the weights from wordfreq (a test checks them).
MARKER_CAP = 3.0
MARKERS: dict[str, float] = {
    "kerana": 1.91, "bahawa": 2.16, "sahaja": 2.06, "wang": 1.01, "akaun": 3.0,
    "selepas": 1.73, "mahu": 1.73, "fikir": 1.24, "faham": 1.47, "hantar": 2.29,
    "nak": 1.85, "dah": 1.62, "universiti": 1.7, "kualiti": 3.0, "sila": 1.52,
    "laluan": 3.0, "telefon": 1.9, "nombor": 2.39, "kedai": 1.14, "syarikat": 2.09,
    "tandas": 1.7, "rosak": 2.0, "tiada": 1.57, "pautan": 3.0, "bungkusan": 0.69,
    "cuba": 1.87, "jadual": 3.0, "sebarang": 1.99, "bimbit": 3.0, "disekat": 3.0,
    "ubat": 1.95, "teksi": 3.0, "awak": 2.29, "soalan": 2.14, "maklumat": 1.89,
    "kemaskini": 3.0, "aktiviti": 3.0, "fasiliti": 3.0, "komuniti": 3.0, "identiti": 3.0,
    "realiti": 3.0, "karena": -1.67, "bahwa": -1.45, "bisa": -2.27, "uang": -1.27,
    "mobil": -1.22, "akun": -3.0, "kemarin": -1.05, "kantor": -1.36, "pikir": -0.2,
    "paham": -0.42, "kirim": -0.41, "nggak": -1.16, "udah": -0.76, "aja": -1.14,
    "universitas": -1.34, "kualitas": -1.69, "silakan": -0.81, "sandi": -1.14,
    "telepon": -1.73, "nomor": -1.47, "gratis": -1.54, "toko": -1.44, "libur": -1.49,
    "perusahaan": -1.34, "pemerintah": -0.98, "rusak": -1.87, "tautan": -3.0,
    "situs": -2.17, "unduh": -3.0, "paket": -1.11, "coba": -1.61, "jadwal": -1.62,
    "apapun": -0.83, "diblokir": -3.0, "kapan": -1.86, "obat": -1.49, "dokter": -1.82,
    "taksi": -1.29, "gimana": -3.0, "informasi": -0.99, "aktivitas": -1.64,
    "fasilitas": -1.51, "komunitas": -1.63, "identitas": -1.24, "realitas": -1.11,
}  # fmt: skip
# Learned-word forms the table lacks: Malay -iti against Indonesian -itas
# (komuniti/komunitas); teliti, meneliti, peneliti (to examine) end in -iti in both.
SUFFIX_WEIGHT = 1.0
_WORD = re.compile(r"[^\W\d_]+")
# Markers are looked for in the first characters only: enough for a ticket's
# opening, and the cost stays bounded for long bodies.
MARKER_CHARS = 1000


def marker_weights() -> dict[str, float]:
    """The weights of :data:`MARKERS`' words recomputed from wordfreq (training only)."""
    import wordfreq

    out: dict[str, float] = {}
    for word, weight in MARKERS.items():
        own, other, sign = ("ms", "id", 1.0) if weight > 0 else ("id", "ms", -1.0)
        gap = wordfreq.zipf_frequency(word, own) - wordfreq.zipf_frequency(word, other)
        out[word] = round(sign * min(max(gap, 0.0), MARKER_CAP), 2)
    return out


def marker_evidence(text: str) -> float:
    """Malay (positive) against Indonesian (negative) evidence of ``text``'s words."""
    total = 0.0
    for word in _WORD.findall(text[:MARKER_CHARS].lower()):
        weight = MARKERS.get(word)
        if weight is not None:
            total += weight
        elif len(word) > 5 and not word.endswith("eliti"):
            if word.endswith("iti"):
                total += SUFFIX_WEIGHT
            elif word.endswith("itas"):
                total -= SUFFIX_WEIGHT
    return total


def decide_malay_indonesian(
    texts: Sequence[str], scores: npt.NDArray[np.float32], classes: Sequence[str]
) -> None:
    """Where Malay and Indonesian are a text's two best scores, let its markers decide.

    Changes ``scores`` in place: when the markers' evidence points to the one
    of the two that scored lower, the two scores are swapped (so the
    confidence stays what the head gave the better one). No marker, or as
    much evidence each way, leaves the head's choice: it is the prior.
    """
    if "ms" not in classes or "id" not in classes or scores.shape[0] == 0 or scores.shape[1] < 2:
        return
    ms, id_ = list(classes).index("ms"), list(classes).index("id")
    best = scores.argmax(axis=1)
    rows = np.flatnonzero((best == ms) | (best == id_))
    if rows.size == 0:
        return
    # The other of the two must be the runner-up (ties count: the markers then decide).
    runner_up = np.partition(scores[rows], -2, axis=1)[:, -2]
    other = np.where(best[rows] == ms, id_, ms)
    rows = rows[scores[rows, other] >= runner_up]
    for row in rows.tolist():
        evidence = marker_evidence(texts[row])
        malay_first = scores[row, ms] > scores[row, id_]
        if (evidence > 0 and not malay_first) or (evidence < 0 and malay_first):
            scores[row, [ms, id_]] = scores[row, [id_, ms]]


def predict_languages(
    head: LinearHead,
    texts: Sequence[str],
    spec: FeatureSpec = LANGUAGE_SPEC,
    *,
    malay_indonesian: bool = True,
) -> tuple[list[str], list[float]]:
    """Language and confidence of each text, as the model bundle predicts them.

    ``malay_indonesian=False`` leaves out :func:`decide_malay_indonesian` (to
    measure it).
    """
    batch = prepare(texts)
    scores = head.scores(featurize(batch, spec)) + script_bias(batch, head.classes)
    if malay_indonesian:
        decide_malay_indonesian(texts, scores, head.classes)
    best, conf = best_of(scores, head.temperature)
    return [head.classes[i] for i in best.tolist()], conf.tolist()

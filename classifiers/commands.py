"""The classifier subcommands of ``ticket-router``: classify, train, evaluate, build-default-model.

``router/cli/main.py`` calls :func:`register`; each subcommand's ``func`` takes the
parsed arguments and returns the exit code. The learners (scikit-learn, SciPy) are
imported inside the commands that use them, so ``--help`` and the other commands start
without them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import orjson

from classifiers.datasets import Dataset, input_from_json, read_dataset
from classifiers.defaults import DEFAULT_C
from classifiers.errors import ClassifierError
from classifiers.exports import FORMATS, parse_delimiter
from classifiers.heads import head_name_problem
from classifiers.label_map import UNMAPPED_CHOICES, load_label_map
from classifiers.paths import default_model_dir
from classifiers.types import ClassifierInput

BATCH = 256


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``classify``, ``train``, ``evaluate`` and ``build-default-model``."""
    p = subparsers.add_parser(
        "classify",
        help="classify JSON-lines tickets from stdin",
        description='Read tickets (or {"text": ...}) as JSON lines on stdin; write one '
        "prediction per line. Bad lines are reported on stderr with their line number.",
    )
    _model_arg(p)
    p.set_defaults(func=cmd_classify)

    p = subparsers.add_parser(
        "train",
        help="train a head (tier, category, ...) from a CSV, JSON-lines or .xlsx export",
        description="Train one task's head and write it into a model folder: --out creates "
        "or updates a folder (a new one starts with the other heads of --base, the default "
        "model); --model-dir adds or replaces the head in an existing model, which is "
        "swapped in whole. Heads other than language, tier and category are extra heads: "
        "predicted with the others, matched by rules under match.predicted.",
    )
    _data_args(p)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="model folder to create or update")
    where.add_argument(
        "--model-dir",
        type=Path,
        help="existing model folder to add the head to (or replace it in), swapped in whole",
    )
    p.add_argument(
        "--base",
        type=Path,
        default=None,
        help="model whose other heads seed a new folder (default: the model in "
        "ROUTER_MODEL_DIR or the shipped one)",
    )
    p.add_argument(
        "--c",
        type=float,
        default=DEFAULT_C,
        help="inverse regularisation strength (default: chosen by cross-validation)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser(
        "evaluate",
        help="report accuracy, macro_f1, per-class P/R/F1, confusion matrix, calibration "
        "and confidence thresholds",
        description="Score a trained head on labelled data (--model), or estimate how well "
        "training on this data works with a held-out split (--holdout) or k-fold "
        "cross-validation (--cv).",
    )
    _data_args(p)
    how = p.add_mutually_exclusive_group()
    how.add_argument("--model", type=Path, default=None, help="model folder to score")
    how.add_argument("--cv", type=int, default=None, metavar="K", help="k-fold cross-validation")
    how.add_argument(
        "--holdout",
        type=float,
        default=None,
        metavar="SHARE",
        help="train on 1-SHARE of the data, score on SHARE",
    )
    p.add_argument("--c", type=float, default=DEFAULT_C)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--target-accuracy",
        type=_share,
        default=0.9,
        metavar="ACC",
        help="report the lowest confidence threshold whose tickets reach this accuracy "
        "(default 0.9)",
    )
    p.add_argument(
        "--output",
        choices=("json", "text"),
        default="json",
        help="json (default): the full report; text: headline figures and the table of "
        "confidence thresholds",
    )
    p.set_defaults(func=cmd_evaluate)

    p = subparsers.add_parser(
        "build-default-model",
        help="generate synthetic tickets and train the shipped default model",
    )
    p.add_argument("--out", type=Path, default=None, help=f"default: {default_model_dir()}")
    p.add_argument("--n", type=int, default=6000, help="synthetic tickets to train on")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--language-words",
        type=int,
        default=30000,
        help="most frequent words per language for the language head "
        "(fewer: faster build, less accurate)",
    )
    p.add_argument(
        "--if-needed",
        action="store_true",
        help="do nothing if the folder already holds a model this version loads (a default "
        "model of an older recipe is rebuilt)",
    )
    p.set_defaults(func=cmd_build_default_model)


def _model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        help="model folder (default: ROUTER_MODEL_DIR or the shipped model)",
    )


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="CSV, JSON-lines or .xlsx export")
    p.add_argument(
        "--text-column",
        action="append",
        default=[],
        dest="text_columns",
        help="text field; repeat to join several (e.g. subject and body); "
        "dotted names reach into objects",
    )
    p.add_argument(
        "--subject-column",
        default=None,
        help="subject field, instead of --text-column: joined with --body-column into the "
        "text, and kept apart: train also tries it as a feature block of its own, weighted "
        "by cross-validation",
    )
    p.add_argument("--body-column", default=None, help="body field (see --subject-column)")
    p.add_argument("--label-column", required=True, help="label field (e.g. tier, labels.tier)")
    p.add_argument(
        "--task",
        required=True,
        type=_head_name,
        help="head name: tier, category or an extra head of your own (a lowercase "
        "identifier, e.g. priority, queue)",
    )
    p.add_argument("--format", choices=FORMATS, default=None, help="default: from the file name")
    p.add_argument(
        "--delimiter",
        type=_delimiter,
        default=None,
        help="CSV delimiter: one character, or tab, comma, semicolon (default: the one of "
        "comma, semicolon, tab that splits the header line into the most fields)",
    )
    p.add_argument(
        "--label-map",
        type=Path,
        default=None,
        metavar="FILE",
        help="YAML, JSON or two-column CSV mapping the label column's values to the "
        "head's labels (e.g. helpdesk groups to tier1/tier2)",
    )
    p.add_argument(
        "--unmapped",
        choices=UNMAPPED_CHOICES,
        default="error",
        help="values the label map lacks: stop with an error listing them (default), "
        "or drop their rows and count them",
    )


def _share(value: str) -> float:
    """A number between 0 and 1 (an accuracy)."""
    try:
        share = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1")
    return share


def _head_name(value: str) -> str:
    problem = head_name_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return value


def _delimiter(value: str) -> str:
    try:
        return parse_delimiter(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _read_data(args: argparse.Namespace) -> Dataset:
    """The examples named by the data arguments, the label map applied."""
    label_map = load_label_map(args.label_map) if args.label_map is not None else None
    data = read_dataset(
        args.data,
        args.text_columns,
        args.label_column,
        fmt=args.format,
        delimiter=args.delimiter,
        subject_column=args.subject_column,
        body_column=args.body_column,
        label_map=label_map,
        unmapped=args.unmapped,
        progress=_progress,
    )
    if data.dropped:
        _progress(
            f"dropped {data.dropped.total()} row(s) whose {args.label_column!r} value is not "
            f"in {args.label_map}: {data.dropped_summary()}"
        )
    return data


def _subjects(data: Dataset) -> list[str] | None:
    """The examples' subjects when ``--subject-column`` named them, else ``None``: the
    cross-validation then also tries the subject as a feature block of its own."""
    if not data.examples or data.examples[0].subject is None:
        return None
    return [e.subject or "" for e in data.examples]


def _model_dir(arg: Path | None) -> Path:
    """The model folder: the flag, else ROUTER_MODEL_DIR, else the shipped one."""
    if arg is not None:
        return arg
    env = os.environ.get("ROUTER_MODEL_DIR")
    return Path(env) if env else default_model_dir()


def _progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cmd_classify(args: argparse.Namespace) -> int:
    """``ticket-router classify``."""
    from classifiers.model import load_model

    try:
        model = load_model(_model_dir(args.model))
    except ClassifierError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return classify_stream(model, sys.stdin.buffer, sys.stdout.buffer, sys.stderr)


def classify_stream(model: Any, stdin: IO[bytes], stdout: IO[bytes], stderr: IO[str]) -> int:
    """Classify JSON lines from ``stdin`` in batches; 0 if every line was good, else 1."""
    bad = 0
    batch: list[ClassifierInput] = []

    def flush() -> None:
        for pred in model.predict(batch):
            stdout.write(orjson.dumps(pred.as_dict()) + b"\n")
        stdout.flush()
        batch.clear()

    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            batch.append(input_from_json(orjson.loads(line)))
        except (orjson.JSONDecodeError, ValueError) as exc:
            bad += 1
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            print(f"line {number}: {reason}", file=stderr, flush=True)
            continue
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    if bad:
        print(f"{bad} bad line(s) skipped", file=stderr)
    return 1 if bad else 0


def cmd_train(args: argparse.Namespace) -> int:
    """``ticket-router train``."""
    from classifiers.build import train_into

    started = time.perf_counter()
    if args.model_dir is not None:
        return _train_into_model(args, started)
    try:
        data = _read_data(args)
        texts, labels, digest = data.texts, data.labels, data.sha256
        _progress(f"read {len(texts)} examples, {len(set(labels))} labels from {args.data}")
        base = args.base if args.base is not None else _model_dir(None)
        train_into(
            args.out,
            args.task,
            texts,
            labels,
            data_sha256=digest,
            data_name=args.data.name,
            base=base,
            c=args.c,
            seed=args.seed,
            progress=_progress,
            subjects=_subjects(data),
        )
    except (ClassifierError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _progress(f"head {args.task!r} written to {args.out} in {time.perf_counter() - started:.1f}s")
    return 0


def _train_into_model(args: argparse.Namespace, started: float) -> int:
    """``train --model-dir``: one head into an existing model, then what was trained."""
    from classifiers.retrain import train_head_into_model

    try:
        data = _read_data(args)
        _progress(
            f"read {len(data.texts)} examples, {len(set(data.labels))} labels from {args.data}"
        )
        trained = train_head_into_model(
            args.model_dir,
            args.task,
            data.texts,
            data.labels,
            data_sha256=data.sha256,
            data_name=args.data.name,
            c=args.c,
            seed=args.seed,
            progress=_progress,
            subjects=_subjects(data),
        )
    except (ClassifierError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in trained.summary():
        _progress(line)
    _progress(f"done in {time.perf_counter() - started:.1f}s")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``ticket-router evaluate``."""
    from classifiers.evaluation import cross_validate, evaluate_head, format_text
    from classifiers.store import load_head, read_manifest

    target = args.target_accuracy
    try:
        data = _read_data(args)
        texts, labels, digest = data.texts, data.labels, data.sha256
        if args.cv is not None:
            result = cross_validate(
                texts,
                labels,
                folds=args.cv,
                seed=args.seed,
                c=args.c,
                progress=_progress,
                target_accuracy=target,
            )
            result["mode"] = f"{args.cv}-fold cross-validation"
        elif args.holdout is not None:
            result = _holdout(texts, labels, args.holdout, args.c, args.seed, target)
        else:
            model_dir = _model_dir(args.model)
            stored = load_head(model_dir, read_manifest(model_dir), args.task)
            result = evaluate_head(
                stored.head,
                stored.spec,
                texts,
                labels,
                target_accuracy=target,
                subjects=_subjects(data),
            )
            result["mode"] = f"model {model_dir}"
    except (ClassifierError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result.update(task=args.task, data=str(args.data), data_sha256=digest)
    if args.label_map is not None:
        result["label_map"] = {"file": str(args.label_map), "dropped": data.dropped.total()}
    if args.output == "text":
        sys.stdout.write(format_text(result))
    else:
        sys.stdout.buffer.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    return 0


def _holdout(
    texts: list[str], labels: list[str], share: float, c: float, seed: int, target: float
) -> Any:
    """Train on a stratified 1-share of the data and report on the rest."""
    from sklearn.model_selection import train_test_split

    from classifiers.evaluation import evaluate_head
    from classifiers.training import TOPIC_SPEC, train_head

    if not 0.0 < share < 1.0:
        raise ValueError("--holdout must be between 0 and 1")
    fit_t, test_t, fit_l, test_l = train_test_split(
        texts, labels, test_size=share, random_state=seed, stratify=labels
    )
    head, _ = train_head(fit_t, fit_l, c=c, seed=seed, progress=_progress)
    result = evaluate_head(head, TOPIC_SPEC, test_t, test_l, target_accuracy=target)
    result["mode"] = f"held-out {share:.0%}"
    return result


def cmd_build_default_model(args: argparse.Namespace) -> int:
    """``ticket-router build-default-model``."""
    from classifiers.build import build_default_model

    out = args.out if args.out is not None else default_model_dir()
    if args.if_needed:
        from classifiers.build import rebuild_reason

        reason = rebuild_reason(out)
        if reason is None:
            _progress(f"{out} holds a model of this version, which loads: nothing to do")
            return 0
        _progress(f"building: {reason}")
    try:
        build_default_model(
            out, n=args.n, seed=args.seed, language_words=args.language_words, progress=_progress
        )
    except (ClassifierError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0

"""Does a routing config fit a model? The extra heads its rules match must exist.

A rule's ``match.predicted`` names extra heads of the model (``queue``,
``priority``, ...) and labels of them. A config naming a head the model in force
lacks, or a label that head never predicts, would have a rule that silently never
matches; so a config is refused against the model in force (``PUT /v1/config``,
rollback, preview, start-up) and a new model is refused against the config in
force (hot reload). Pure: the model is described by its heads' labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from router.core.config_types import ConfigError, RoutingConfig


def heads_used(config: RoutingConfig) -> dict[str, list[str]]:
    """Extra head -> the ids of the rules that match it, in config order."""
    out: dict[str, list[str]] = {}
    for rule in config.rules:
        for condition in rule.match.predicted:
            out.setdefault(condition.head, []).append(rule.id)
    return out


def head_problems(
    config: RoutingConfig, heads: Mapping[str, Sequence[str]], model: str
) -> list[tuple[str, str]]:
    """(path, problem) for each rule condition the model ``model`` cannot meet:
    ``heads`` maps the model's extra heads to their labels."""
    problems: list[tuple[str, str]] = []
    names = ", ".join(heads) or "none"
    for i, rule in enumerate(config.rules):
        for condition in rule.match.predicted:
            path = f"rules[{i}].match.predicted.{condition.head}"
            labels = heads.get(condition.head)
            if labels is None:
                problems.append(
                    (
                        path,
                        f"rule {rule.id!r} matches head {condition.head!r}, which model "
                        f"{model} lacks (its extra heads: {names})",
                    )
                )
                continue
            unknown = sorted((condition.labels or frozenset()) - set(labels))
            if unknown:
                problems.append(
                    (
                        path,
                        f"rule {rule.id!r} matches label(s) {', '.join(map(repr, unknown))} "
                        f"of head {condition.head!r}, which model {model} never predicts "
                        f"(its labels: {', '.join(labels)})",
                    )
                )
    return problems


def check_heads(config: RoutingConfig, heads: Mapping[str, Sequence[str]], model: str) -> None:
    """Raise :class:`ConfigError` (source: the config's) listing :func:`head_problems`."""
    problems = head_problems(config, heads, model)
    if problems:
        raise ConfigError(config.source, problems)

"""Load and validate the routing config (pools and rules) from YAML or a mapping.

``load_config`` reads one YAML file (``yaml.safe_load``), ``parse_config`` takes an
already decoded mapping (e.g. the body of ``PUT /v1/config`` or a copy kept in Redis).
Both raise ``ConfigError`` naming the source, the path (``pools[3].schedule.mon[0]``)
and the problem, and return a frozen ``RoutingConfig`` ready for ``router.core.policy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from router.config.compile import DEFAULT_RULE_ID, compile_config, content_version
from router.config.schema import RoutingConfigModel
from router.core.config_types import (
    ConfigError,
    DataPolicy,
    LowConfidence,
    Pool,
    RoutingConfig,
    Rule,
    RuleMatch,
)
from router.core.validation import location, message

__all__ = [
    "DEFAULT_RULE_ID",
    "ConfigError",
    "DataPolicy",
    "LowConfidence",
    "Pool",
    "RoutingConfig",
    "Rule",
    "RuleMatch",
    "content_version",
    "diff_configs",
    "load_config",
    "parse_config",
]


def load_config(path: Path) -> RoutingConfig:
    """Read, validate and compile the YAML config at ``path``; raises ``ConfigError``."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [("", f"cannot read file: {exc.strerror or exc}")]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [(where, f"invalid YAML: {problem}")]) from exc
    if not isinstance(data, Mapping):
        raise ConfigError(source, [("", "the document must be a mapping of sections")])
    return parse_config(data, source=source)


def parse_config(data: Mapping[str, Any], *, source: str) -> RoutingConfig:
    """Validate and compile a decoded config document; raises ``ConfigError``."""
    try:
        model = RoutingConfigModel.model_validate(dict(data))
    except ValidationError as exc:
        problems = [(location(err["loc"]), _problem(err)) for err in exc.errors()]
        raise ConfigError(source, problems) from exc
    return compile_config(model, source=source)


def _problem(err: ErrorDetails) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    text = message(err)
    if err["type"] in {"string_pattern_mismatch", "literal_error"}:
        return f"{text} (got {err['input']!r})"
    return text


def diff_configs(old: RoutingConfig, new: RoutingConfig) -> list[str]:
    """Human-readable differences between two configs, one line each, pools first."""
    lines: list[str] = []
    old_pools = {p["id"]: p for p in old.document["pools"]}
    new_pools = {p["id"]: p for p in new.document["pools"]}
    lines.extend(f"pool {p} removed" for p in old_pools if p not in new_pools)
    lines.extend(f"pool {p} added" for p in new_pools if p not in old_pools)
    for pool_id in sorted(old_pools.keys() & new_pools.keys()):
        for key in sorted(old_pools[pool_id].keys() | new_pools[pool_id].keys()):
            before, after = old_pools[pool_id].get(key), new_pools[pool_id].get(key)
            if before != after:
                lines.append(f"pool {pool_id}: {key} {_short(before)} -> {_short(after)}")
    old_rules = [r["id"] for r in old.document.get("rules", [])]
    new_rules = [r["id"] for r in new.document.get("rules", [])]
    old_by_id = {r["id"]: r for r in old.document.get("rules", [])}
    for rule in new.document.get("rules", []):
        if rule["id"] not in old_by_id:
            lines.append(f"rule {rule['id']} added")
        elif old_by_id[rule["id"]] != rule:
            lines.append(f"rule {rule['id']} changed")
    lines.extend(f"rule {r} removed" for r in old_rules if r not in new_rules)
    common_old = [r for r in old_rules if r in new_rules]
    common_new = [r for r in new_rules if r in old_rules]
    if common_old != common_new:
        lines.append(f"rule order {', '.join(common_old)} -> {', '.join(common_new)}")
    for key in sorted((old.document.keys() | new.document.keys()) - {"pools", "rules", "version"}):
        if old.document.get(key) != new.document.get(key):
            lines.append(
                f"{key}: {_short(old.document.get(key))} -> {_short(new.document.get(key))}"
            )
    return lines


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

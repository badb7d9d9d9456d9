"""Service settings: one frozen object built once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
MAX_TICKET_BYTES = 64 * 1024


def default_config_path() -> Path:
    """The example config shipped in ``deploy/`` (next to the source tree)."""
    return Path(__file__).resolve().parents[2] / "deploy" / "config.example.yaml"


@dataclass(frozen=True, slots=True)
class Names:
    """Broker and Redis names; tests give each run its own so runs never collide."""

    tickets_exchange: str = "tickets"
    inbound_queue: str = "tickets.inbound"
    dead_queue: str = "tickets.dead"
    assignments_exchange: str = "assignments"
    pool_queue_prefix: str = "pool."
    redis_prefix: str = "tr:"

    def pool_queue(self, pool_id: str) -> str:
        """The queue that receives a pool's assignments."""
        return f"{self.pool_queue_prefix}{pool_id}"

    @classmethod
    def with_suffix(cls, suffix: str) -> Names:
        """Names unique to ``suffix``, e.g. for one test or one staging copy."""
        return cls(
            tickets_exchange=f"tickets.{suffix}",
            inbound_queue=f"tickets.inbound.{suffix}",
            dead_queue=f"tickets.dead.{suffix}",
            assignments_exchange=f"assignments.{suffix}",
            pool_queue_prefix=f"pool.{suffix}.",
            redis_prefix=f"tr:{suffix}:",
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service reads from its environment, with sane defaults."""

    amqp_url: str = DEFAULT_AMQP_URL
    redis_url: str = DEFAULT_REDIS_URL
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    config_path: Path = field(default_factory=default_config_path)
    model_dir: Path | None = None  # None: the shipped default model
    names: Names = field(default_factory=Names)
    # Bounded prefetch: how many unacked inbound tickets one replica holds at once.
    prefetch: int = 256
    batch_size: int = 128
    # How long the consumer waits to fill a batch; small, so latency stays low at low load.
    batch_wait_ms: float = 2.0
    max_ticket_bytes: int = MAX_TICKET_BYTES
    # Largest routing config accepted by PUT /v1/config and preview (413 above it).
    max_config_bytes: int = 1024 * 1024
    # A claim on a ticket expires after this long so a killed or frozen replica's work is
    # taken over quickly; a live replica renews its claims every third of it while it works.
    claim_ttl_s: float = 6.0
    # AMQP heartbeat: a frozen or vanished replica's connection (and so its prefetched,
    # unacked tickets) is given back by the broker after about this long.
    amqp_heartbeat_s: int = 10
    publish_timeout_s: float = 10.0
    shutdown_grace_s: float = 25.0
    # Queue type for the inbound queue; quorum queues survive node loss and cap redeliveries.
    queue_type: str = "quorum"
    # After this many deliveries a message that keeps crashing the consumer is dead-lettered.
    delivery_limit: int = 20
    recent_tickets: int = 10_000
    log_level: str = "INFO"
    # Production: a Redis that does not persist (no AOF) makes /readyz 503 instead of a
    # warning, since a restart of it would forget every claim, token and config version.
    require_persistent_redis: bool = False
    # How often Redis' persistence and the epoch key (did its data vanish?) are checked.
    redis_check_interval_s: float = 5.0
    # HMAC key for the pseudonyms of customer ids on masked pools (ROUTER_PSEUDONYM_KEY,
    # the same on every replica); None: customer ids are redacted. Not in repr: a secret.
    pseudonym_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``ROUTER_*`` variables; unset ones keep their defaults."""
        env = os.environ if env is None else env
        base = cls()
        names = base.names
        if "ROUTER_NAME_SUFFIX" in env:
            names = Names.with_suffix(env["ROUTER_NAME_SUFFIX"])
        if "ROUTER_REDIS_PREFIX" in env:
            names = replace(names, redis_prefix=env["ROUTER_REDIS_PREFIX"])
        model_dir = env.get("ROUTER_MODEL_DIR")
        return replace(
            base,
            amqp_url=env.get("ROUTER_AMQP_URL", base.amqp_url),
            redis_url=env.get("ROUTER_REDIS_URL", base.redis_url),
            http_host=env.get("ROUTER_HTTP_HOST", base.http_host),
            http_port=_int(env, "ROUTER_HTTP_PORT", base.http_port),
            config_path=Path(env["ROUTER_CONFIG"])
            if env.get("ROUTER_CONFIG")
            else base.config_path,
            model_dir=Path(model_dir) if model_dir else None,
            names=names,
            prefetch=_int(env, "ROUTER_PREFETCH", base.prefetch),
            batch_size=_int(env, "ROUTER_BATCH_SIZE", base.batch_size),
            queue_type=env.get("ROUTER_QUEUE_TYPE", base.queue_type),
            log_level=env.get("ROUTER_LOG_LEVEL", base.log_level),
            amqp_heartbeat_s=_int(env, "ROUTER_AMQP_HEARTBEAT", base.amqp_heartbeat_s),
            max_config_bytes=_int(env, "ROUTER_MAX_CONFIG_BYTES", base.max_config_bytes),
            claim_ttl_s=_float(env, "ROUTER_CLAIM_TTL", base.claim_ttl_s),
            require_persistent_redis=_bool(
                env, "ROUTER_REQUIRE_PERSISTENT_REDIS", base.require_persistent_redis
            ),
            pseudonym_key=env.get("ROUTER_PSEUDONYM_KEY") or None,
        )


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{key} must be an integer, got {raw!r}") from None


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key} must be a number, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"{key} must be above 0, got {raw!r}")
    return value


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValueError(f"{key} must be true or false, got {raw!r}")

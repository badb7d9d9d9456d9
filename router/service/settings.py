"""Service settings: one frozen object built once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from router.core.errors import SettingsError

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
    # Bounded prefetch: how many unacked inbound tickets one replica holds at once. Four
    # batches: two being routed (BATCHES_IN_FLIGHT) and the next ones already arriving;
    # at two batches the broker stops delivering while both are routed, and batches go
    # out part-full (measured: 7 % fewer tickets/s and 10 % more CPU a ticket).
    prefetch: int = 512
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
    # "text" (one line a record) or "json" (one JSON object a line, for log pipelines).
    log_format: str = "text"
    # Production: a Redis that does not persist (no AOF) makes /readyz 503 instead of a
    # warning, since a restart of it would forget every claim, token and config version.
    require_persistent_redis: bool = False
    # How often Redis' persistence and the epoch key (did its data vanish?) are checked.
    redis_check_interval_s: float = 5.0
    # Behind Sentinel: how many replicas must hold a batch's records before its tickets
    # are acked (Redis WAIT), and how long to wait for them; 0: do not wait. Replication
    # is asynchronous, so without it a failover loses the records of acked tickets.
    redis_wait_replicas: int = 0
    redis_wait_timeout_s: float = 1.0
    # HMAC key for the pseudonyms of customer ids on masked pools (ROUTER_PSEUDONYM_KEY,
    # the same on every replica); None: customer ids are redacted. Not in repr: a secret.
    pseudonym_key: str | None = field(default=None, repr=False)
    # KPI bookkeeping in Redis (GET /v1/stats, scorecards, the router_kpi_* series); off
    # only to measure what it costs.
    kpi: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``ROUTER_*`` variables (``env``, else ``os.environ``).

        Unset or empty variables keep their defaults; other variables are ignored. A
        value outside what its variable allows raises ``SettingsError``, one line per
        such variable, naming it and the values it allows.
        """
        given = _parse(os.environ if env is None else env)
        base = cls()
        names = base.names
        if given.name_suffix is not None:
            names = Names.with_suffix(given.name_suffix)
        if given.redis_prefix is not None:
            names = replace(names, redis_prefix=given.redis_prefix)
        # Every other field of the model is named as the Settings attribute it sets.
        values = given.model_dump(exclude_unset=True, exclude={"name_suffix", "redis_prefix"})
        return replace(base, names=names, **values)


# -- Parsing the environment -------------------------------------------------------------
#
# ``_Env`` holds what the environment sets, each field named as the ``Settings`` attribute
# it sets and aliased to its variable; ``None`` means unset, so the defaults live in one
# place (``Settings``). A checked field's description is what its variable allows: the
# text of the error when a value is outside it.

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_FLAGS = "one of true, false, 1, 0, yes, no, on, off"
_LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
_QueueType = Literal["quorum", "classic"]
_LogFormat = Literal["text", "json"]
# Never echoed back in an error: a URL may hold a password.
_SECRET = frozenset({"ROUTER_AMQP_URL", "ROUTER_REDIS_URL", "ROUTER_PSEUDONYM_KEY"})


def _flag(value: object) -> object:
    # Only these words (any case): pydantic alone would also take "t", "y" or "f".
    if isinstance(value, str):
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ValueError(_FLAGS)
    return value


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _url(*schemes: str) -> AfterValidator:
    def check(value: str) -> str:
        if urlsplit(value).scheme not in schemes:
            raise ValueError(value)
        return value

    return AfterValidator(check)


class _Env(BaseSettings):
    # Each field's alias is its variable's full name (so a search for it finds it here);
    # the prefix is what a field without one would be read under.
    model_config = SettingsConfigDict(
        env_prefix="ROUTER_",
        case_sensitive=True,
        env_ignore_empty=True,  # ROUTER_X= means unset, as with a shell's "X= cmd"
        extra="ignore",
        frozen=True,
    )

    amqp_url: Annotated[str, _url("amqp", "amqps")] | None = Field(
        None, alias="ROUTER_AMQP_URL", description="an amqp:// or amqps:// URL"
    )
    redis_url: Annotated[str, _url("redis", "rediss", "unix", "redis+sentinel")] | None = Field(
        None,
        alias="ROUTER_REDIS_URL",
        description="a redis://, rediss://, unix:// or redis+sentinel:// URL",
    )
    http_host: str | None = Field(None, alias="ROUTER_HTTP_HOST")
    http_port: int | None = Field(
        None, alias="ROUTER_HTTP_PORT", ge=1, le=65535, description="an integer from 1 to 65535"
    )
    config_path: Path | None = Field(None, alias="ROUTER_CONFIG")
    model_dir: Path | None = Field(None, alias="ROUTER_MODEL_DIR")
    name_suffix: str | None = Field(None, alias="ROUTER_NAME_SUFFIX")
    redis_prefix: str | None = Field(None, alias="ROUTER_REDIS_PREFIX")
    # AMQP's prefetch count is 16 bits; 0 would mean unbounded.
    prefetch: int | None = Field(
        None, alias="ROUTER_PREFETCH", ge=1, le=65535, description="an integer from 1 to 65535"
    )
    batch_size: int | None = Field(
        None, alias="ROUTER_BATCH_SIZE", ge=1, description="an integer of 1 or more"
    )
    queue_type: _QueueType | None = Field(
        None, alias="ROUTER_QUEUE_TYPE", description="one of " + ", ".join(get_args(_QueueType))
    )
    log_level: Annotated[_LogLevel, BeforeValidator(_upper)] | None = Field(
        None,
        alias="ROUTER_LOG_LEVEL",
        description="one of " + ", ".join(get_args(_LogLevel)),  # in any case
    )
    log_format: _LogFormat | None = Field(
        None, alias="ROUTER_LOG_FORMAT", description="one of " + ", ".join(get_args(_LogFormat))
    )
    # 0 would turn heartbeats off (so would 65535 and above, in aiormq), and a frozen
    # replica would then keep its unacked tickets until its TCP connection dies.
    amqp_heartbeat_s: int | None = Field(
        None,
        alias="ROUTER_AMQP_HEARTBEAT",
        ge=1,
        le=65534,
        description="an integer number of seconds from 1 to 65534",
    )
    max_config_bytes: int | None = Field(
        None, alias="ROUTER_MAX_CONFIG_BYTES", ge=1, description="an integer of 1 or more"
    )
    # The claim is kept in whole milliseconds: below 1 ms it would be 0, which Redis refuses.
    claim_ttl_s: float | None = Field(
        None,
        alias="ROUTER_CLAIM_TTL",
        ge=0.001,
        allow_inf_nan=False,
        description="a number of seconds of 0.001 or more",
    )
    require_persistent_redis: Annotated[bool, BeforeValidator(_flag)] | None = Field(
        None, alias="ROUTER_REQUIRE_PERSISTENT_REDIS", description=_FLAGS
    )
    redis_wait_replicas: int | None = Field(
        None,
        alias="ROUTER_REDIS_WAIT_REPLICAS",
        ge=0,
        le=16,
        description="a whole number of replicas from 0 to 16",
    )
    # Redis' WAIT takes whole milliseconds, and 0 would mean "wait forever".
    redis_wait_timeout_s: float | None = Field(
        None,
        alias="ROUTER_REDIS_WAIT_TIMEOUT",
        ge=0.001,
        le=60,
        allow_inf_nan=False,
        description="a number of seconds from 0.001 to 60",
    )
    # Its length (16 bytes or more) is checked where it is used, by masker_for, so that
    # settings built in code are held to it too.
    pseudonym_key: str | None = Field(None, alias="ROUTER_PSEUDONYM_KEY")
    kpi: Annotated[bool, BeforeValidator(_flag)] | None = Field(
        None, alias="ROUTER_KPI", description=_FLAGS
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what _parse passes: it reads the mapping it is given, never os.environ
        # behind it (nor a .env file or a secrets folder).
        return (init_settings,)


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source reading ``env`` instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env  # before super().__init__, which loads the variables
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._env, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


def _parse(env: Mapping[str, str]) -> _Env:
    try:
        return _Env(**_MappingSource(_Env, env)())
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            variable = str(error["loc"][0])
            allowed = _Env.model_fields[_FIELD_OF[variable]].description
            got = "" if variable in _SECRET else f" (got {env[variable]!r})"
            problems.setdefault(variable, f"must be {allowed}{got}")
        raise SettingsError(list(problems.items())) from None


_FIELD_OF = {str(field.alias): name for name, field in _Env.model_fields.items()}

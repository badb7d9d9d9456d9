"""``Settings.from_env``: every ``ROUTER_*`` variable's accepted and refused values, and
the command line's answer to a refused one (one line, exit 2, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from operator import attrgetter
from pathlib import Path
from typing import Any

import pytest

from router.core.errors import RouterError, SettingsError
from router.service.settings import Names, Settings
from tests.conftest import REPO

VARIABLES = [
    "ROUTER_AMQP_URL", "ROUTER_REDIS_URL", "ROUTER_HTTP_HOST", "ROUTER_HTTP_PORT",
    "ROUTER_CONFIG", "ROUTER_MODEL_DIR", "ROUTER_NAME_SUFFIX", "ROUTER_REDIS_PREFIX",
    "ROUTER_PREFETCH", "ROUTER_BATCH_SIZE", "ROUTER_QUEUE_TYPE", "ROUTER_LOG_LEVEL",
    "ROUTER_AMQP_HEARTBEAT", "ROUTER_MAX_CONFIG_BYTES", "ROUTER_CLAIM_TTL",
    "ROUTER_REQUIRE_PERSISTENT_REDIS", "ROUTER_PSEUDONYM_KEY",
    "ROUTER_REDIS_WAIT_REPLICAS", "ROUTER_REDIS_WAIT_TIMEOUT",
]  # fmt: skip

FLAGS = "must be one of true, false, 1, 0, yes, no, on, off"
PORT = "must be an integer from 1 to 65535"
REDIS_URLS = "must be a redis://, rediss://, unix:// or redis+sentinel:// URL"
AT_LEAST_1 = "must be an integer of 1 or more"
LEVELS = "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
HEARTBEAT = "must be an integer number of seconds from 1 to 65534"
TTL = "must be a number of seconds of 0.001 or more"
REPLICAS = "must be a whole number of replicas from 0 to 16"
WAIT = "must be a number of seconds from 0.001 to 60"

GOOD: list[tuple[str, str, str, Any]] = [
    ("ROUTER_AMQP_URL", "amqps://u:p@mq.example:5671/vh", "amqp_url", "amqps://u:p@mq.example:5671/vh"),
    ("ROUTER_AMQP_URL", "amqp://mq", "amqp_url", "amqp://mq"),
    ("ROUTER_REDIS_URL", "rediss://r.example:6380/1", "redis_url", "rediss://r.example:6380/1"),
    ("ROUTER_REDIS_URL", "unix:///run/redis.sock", "redis_url", "unix:///run/redis.sock"),
    (
        "ROUTER_REDIS_URL",
        "redis+sentinel://s1:26379,s2:26379/mymaster/0",
        "redis_url",
        "redis+sentinel://s1:26379,s2:26379/mymaster/0",
    ),
    ("ROUTER_REDIS_URL", "redis://r:6379/0", "redis_url", "redis://r:6379/0"),
    ("ROUTER_HTTP_HOST", "127.0.0.1", "http_host", "127.0.0.1"),
    ("ROUTER_HTTP_PORT", "1", "http_port", 1),
    ("ROUTER_HTTP_PORT", "65535", "http_port", 65535),
    ("ROUTER_HTTP_PORT", "9090", "http_port", 9090),
    ("ROUTER_CONFIG", "/etc/router/config.yaml", "config_path", Path("/etc/router/config.yaml")),
    ("ROUTER_MODEL_DIR", "models/acme", "model_dir", Path("models/acme")),
    ("ROUTER_NAME_SUFFIX", "blue", "names", Names.with_suffix("blue")),
    ("ROUTER_REDIS_PREFIX", "acme:", "names", Names(redis_prefix="acme:")),
    ("ROUTER_PREFETCH", "1", "prefetch", 1),
    ("ROUTER_PREFETCH", "65535", "prefetch", 65535),
    ("ROUTER_BATCH_SIZE", "1", "batch_size", 1),
    ("ROUTER_BATCH_SIZE", "100000", "batch_size", 100_000),
    ("ROUTER_QUEUE_TYPE", "classic", "queue_type", "classic"),
    ("ROUTER_QUEUE_TYPE", "quorum", "queue_type", "quorum"),
    ("ROUTER_LOG_LEVEL", "debug", "log_level", "DEBUG"),
    ("ROUTER_LOG_LEVEL", "Warning", "log_level", "WARNING"),
    ("ROUTER_LOG_LEVEL", "INFO", "log_level", "INFO"),
    ("ROUTER_LOG_LEVEL", "error", "log_level", "ERROR"),
    ("ROUTER_LOG_LEVEL", "CRITICAL", "log_level", "CRITICAL"),
    ("ROUTER_AMQP_HEARTBEAT", "1", "amqp_heartbeat_s", 1),
    ("ROUTER_AMQP_HEARTBEAT", "65534", "amqp_heartbeat_s", 65534),
    ("ROUTER_MAX_CONFIG_BYTES", "1", "max_config_bytes", 1),
    ("ROUTER_MAX_CONFIG_BYTES", "2097152", "max_config_bytes", 2_097_152),
    ("ROUTER_CLAIM_TTL", "0.001", "claim_ttl_s", 0.001),
    ("ROUTER_CLAIM_TTL", "0.5", "claim_ttl_s", 0.5),
    ("ROUTER_CLAIM_TTL", "30", "claim_ttl_s", 30.0),
    ("ROUTER_PSEUDONYM_KEY", "k" * 32, "pseudonym_key", "k" * 32),
    ("ROUTER_REDIS_WAIT_REPLICAS", "0", "redis_wait_replicas", 0),
    ("ROUTER_REDIS_WAIT_REPLICAS", "1", "redis_wait_replicas", 1),
    ("ROUTER_REDIS_WAIT_REPLICAS", "16", "redis_wait_replicas", 16),
    ("ROUTER_REDIS_WAIT_TIMEOUT", "0.001", "redis_wait_timeout_s", 0.001),
    ("ROUTER_REDIS_WAIT_TIMEOUT", "0.25", "redis_wait_timeout_s", 0.25),
    ("ROUTER_REDIS_WAIT_TIMEOUT", "60", "redis_wait_timeout_s", 60.0),
    *[
        ("ROUTER_REQUIRE_PERSISTENT_REDIS", word, "require_persistent_redis", value)
        for words, value in (
            (("true", "1", "yes", "on", "TRUE", "Yes", "ON"), True),
            (("false", "0", "no", "off", "FALSE", "No", "Off"), False),
        )
        for word in words
    ],
]  # fmt: skip

BAD: list[tuple[str, str, str]] = [
    ("ROUTER_AMQP_URL", "http://mq:5672/", "must be an amqp:// or amqps:// URL"),
    ("ROUTER_AMQP_URL", "guest@mq:5672", "must be an amqp:// or amqps:// URL"),
    ("ROUTER_REDIS_URL", "http://r:6379/0", REDIS_URLS),
    ("ROUTER_REDIS_URL", "r:6379", REDIS_URLS),
    ("ROUTER_HTTP_PORT", "0", f"{PORT} (got '0')"),
    ("ROUTER_HTTP_PORT", "65536", f"{PORT} (got '65536')"),
    ("ROUTER_HTTP_PORT", "http", f"{PORT} (got 'http')"),
    ("ROUTER_HTTP_PORT", "80.5", f"{PORT} (got '80.5')"),
    ("ROUTER_PREFETCH", "-5", f"{PORT} (got '-5')"),
    ("ROUTER_PREFETCH", "0", f"{PORT} (got '0')"),
    ("ROUTER_PREFETCH", "65536", f"{PORT} (got '65536')"),
    ("ROUTER_PREFETCH", "many", f"{PORT} (got 'many')"),
    ("ROUTER_BATCH_SIZE", "0", f"{AT_LEAST_1} (got '0')"),
    ("ROUTER_BATCH_SIZE", "-1", f"{AT_LEAST_1} (got '-1')"),
    ("ROUTER_BATCH_SIZE", "1.5", f"{AT_LEAST_1} (got '1.5')"),
    ("ROUTER_QUEUE_TYPE", "qurom", "must be one of quorum, classic (got 'qurom')"),
    ("ROUTER_QUEUE_TYPE", "Quorum", "must be one of quorum, classic (got 'Quorum')"),
    ("ROUTER_QUEUE_TYPE", "stream", "must be one of quorum, classic (got 'stream')"),
    ("ROUTER_LOG_LEVEL", "verbose", f"{LEVELS} (got 'verbose')"),
    ("ROUTER_LOG_LEVEL", "warn", f"{LEVELS} (got 'warn')"),
    ("ROUTER_LOG_LEVEL", "10", f"{LEVELS} (got '10')"),
    ("ROUTER_AMQP_HEARTBEAT", "0", f"{HEARTBEAT} (got '0')"),
    ("ROUTER_AMQP_HEARTBEAT", "65535", f"{HEARTBEAT} (got '65535')"),
    ("ROUTER_AMQP_HEARTBEAT", "-1", f"{HEARTBEAT} (got '-1')"),
    ("ROUTER_AMQP_HEARTBEAT", "10s", f"{HEARTBEAT} (got '10s')"),
    ("ROUTER_MAX_CONFIG_BYTES", "0", f"{AT_LEAST_1} (got '0')"),
    ("ROUTER_MAX_CONFIG_BYTES", "1MB", f"{AT_LEAST_1} (got '1MB')"),
    ("ROUTER_CLAIM_TTL", "0", f"{TTL} (got '0')"),
    ("ROUTER_CLAIM_TTL", "-6", f"{TTL} (got '-6')"),
    ("ROUTER_CLAIM_TTL", "0.0009", f"{TTL} (got '0.0009')"),
    ("ROUTER_CLAIM_TTL", "inf", f"{TTL} (got 'inf')"),
    ("ROUTER_CLAIM_TTL", "nan", f"{TTL} (got 'nan')"),
    ("ROUTER_CLAIM_TTL", "soon", f"{TTL} (got 'soon')"),
    ("ROUTER_REQUIRE_PERSISTENT_REDIS", "t", f"{FLAGS} (got 't')"),
    ("ROUTER_REQUIRE_PERSISTENT_REDIS", "2", f"{FLAGS} (got '2')"),
    ("ROUTER_REQUIRE_PERSISTENT_REDIS", "maybe", f"{FLAGS} (got 'maybe')"),
    ("ROUTER_REDIS_WAIT_REPLICAS", "-1", f"{REPLICAS} (got '-1')"),
    ("ROUTER_REDIS_WAIT_REPLICAS", "17", f"{REPLICAS} (got '17')"),
    ("ROUTER_REDIS_WAIT_REPLICAS", "1.5", f"{REPLICAS} (got '1.5')"),
    ("ROUTER_REDIS_WAIT_REPLICAS", "all", f"{REPLICAS} (got 'all')"),
    ("ROUTER_REDIS_WAIT_TIMEOUT", "0", f"{WAIT} (got '0')"),
    ("ROUTER_REDIS_WAIT_TIMEOUT", "61", f"{WAIT} (got '61')"),
    ("ROUTER_REDIS_WAIT_TIMEOUT", "inf", f"{WAIT} (got 'inf')"),
    ("ROUTER_REDIS_WAIT_TIMEOUT", "1s", f"{WAIT} (got '1s')"),
]  # fmt: skip


@pytest.mark.parametrize(("variable", "raw", "attribute", "expected"), GOOD)
def test_a_good_value_is_taken(variable: str, raw: str, attribute: str, expected: Any) -> None:
    settings = Settings.from_env({variable: raw})
    assert attrgetter(attribute)(settings) == expected
    # Nothing else moves from its default.
    assert settings == Settings(**{attribute: expected})


@pytest.mark.parametrize(("variable", "raw", "problem"), BAD)
def test_a_bad_value_is_one_line_naming_the_variable(variable: str, raw: str, problem: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({variable: raw})
    assert str(info.value) == f"{variable}: {problem}"
    assert info.value.problems == [(variable, problem)]


def test_the_error_is_a_value_error_of_the_router() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"ROUTER_PREFETCH": "-5"})
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, RouterError)


def test_every_bad_variable_is_one_line_in_the_order_of_the_table() -> None:
    env = {
        "ROUTER_LOG_LEVEL": "verbose",
        "ROUTER_QUEUE_TYPE": "qurom",
        "ROUTER_PREFETCH": "-5",
        "ROUTER_HTTP_PORT": "8080",
    }
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    assert str(info.value).splitlines() == [
        f"ROUTER_PREFETCH: {PORT} (got '-5')",
        "ROUTER_QUEUE_TYPE: must be one of quorum, classic (got 'qurom')",
        f"ROUTER_LOG_LEVEL: {LEVELS} (got 'verbose')",
    ]


def test_a_url_in_an_error_is_not_echoed_since_it_may_hold_a_password() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"ROUTER_AMQP_URL": "http://guest:hunter2@mq/"})
    assert str(info.value) == "ROUTER_AMQP_URL: must be an amqp:// or amqps:// URL"


def test_unset_and_empty_variables_keep_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env(dict.fromkeys(VARIABLES, "")) == Settings()


def test_other_variables_are_ignored() -> None:
    env = {"ROUTER_PREFECH": "-5", "router_prefetch": "7", "PREFETCH": "3", "HOME": "/root"}
    assert Settings.from_env(env) == Settings()


def test_the_suffix_and_the_redis_prefix_combine() -> None:
    settings = Settings.from_env({"ROUTER_NAME_SUFFIX": "blue", "ROUTER_REDIS_PREFIX": "p:"})
    assert settings.names == Names(
        tickets_exchange="tickets.blue",
        inbound_queue="tickets.inbound.blue",
        dead_queue="tickets.dead.blue",
        assignments_exchange="assignments.blue",
        pool_queue_prefix="pool.blue.",
        redis_prefix="p:",
    )


def test_the_pseudonym_key_is_kept_as_given_and_not_shown() -> None:
    # Its minimum length is masker_for's rule (tests/unit/test_masking_ticket.py), which
    # also holds for settings built in code; from_env passes the key through as given.
    settings = Settings.from_env({"ROUTER_PSEUDONYM_KEY": "short"})
    assert settings.pseudonym_key == "short"
    assert "short" not in repr(settings)


def test_a_given_mapping_is_read_instead_of_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROUTER_PREFETCH", "-5")
    monkeypatch.setenv("ROUTER_BATCH_SIZE", "7")
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env({"ROUTER_BATCH_SIZE": "9"}).batch_size == 9


def test_without_a_mapping_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROUTER_BATCH_SIZE", "7")
    assert Settings.from_env().batch_size == 7
    monkeypatch.setenv("ROUTER_PREFETCH", "-5")
    with pytest.raises(SettingsError) as info:
        Settings.from_env()
    assert str(info.value) == f"ROUTER_PREFETCH: {PORT} (got '-5')"


def command_env(variable: str, raw: str) -> dict[str, str]:
    """The process environment without ROUTER_* variables, plus the one bad value; the
    rest points at closed ports and names of its own, so that a command that failed to
    refuse the value would touch no shared server (and time out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTER_")}
    env |= {
        "ROUTER_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",
        "ROUTER_REDIS_URL": "redis://127.0.0.1:1/0",
        "ROUTER_NAME_SUFFIX": f"settings-{uuid.uuid4().hex[:12]}",
        "ROUTER_HTTP_HOST": "127.0.0.1",
        "ROUTER_HTTP_PORT": "1",
    }
    env[variable] = raw
    return env


@pytest.mark.parametrize("command", [["serve"], ["token", "list"]])
@pytest.mark.parametrize(
    ("variable", "raw", "line"),
    [
        (
            "ROUTER_QUEUE_TYPE",
            "qurom",
            "ROUTER_QUEUE_TYPE: must be one of quorum, classic (got 'qurom')",
        ),
        ("ROUTER_PREFETCH", "-5", f"ROUTER_PREFETCH: {PORT} (got '-5')"),
        ("ROUTER_LOG_LEVEL", "verbose", f"ROUTER_LOG_LEVEL: {LEVELS} (got 'verbose')"),
    ],
)
def test_a_command_says_a_bad_value_in_one_line_and_exits_2(
    command: list[str], variable: str, raw: str, line: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "router", *command],
        cwd=REPO,
        env=command_env(variable, raw),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stderr == f"ticket-router: {line}\n"
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert done.returncode == 2

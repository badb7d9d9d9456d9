"""Log output: JSON lines with the record's fields, and one line a routed ticket."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from router.cli.logs import JsonFormatter
from router.service.settings import Settings
from tests.fakes import MemoryPublisher, MemoryTicketStore
from tests.unit.test_routing_service import _pending, _router


def test_a_json_line_holds_time_level_logger_message_and_the_extra_fields() -> None:
    record = logging.LogRecord(
        "router.tickets", logging.INFO, "f.py", 1, "ticket %s", ("T1",), None
    )
    record.ticket_id = "T1"
    record.latency_ms = 12.5
    line = orjson.loads(JsonFormatter().format(record))
    assert line["level"] == "INFO"
    assert line["logger"] == "router.tickets"
    assert line["message"] == "ticket T1"
    assert (line["ticket_id"], line["latency_ms"]) == ("T1", 12.5)
    assert line["time"].endswith("+00:00")
    assert "args" not in line and "msg" not in line


def test_an_exception_is_one_json_line_with_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, "f.py", 1, "failed", (), sys.exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert "ValueError: boom" in orjson.loads(text)["exception"]


def test_log_format_is_text_or_json() -> None:
    assert Settings.from_env({}).log_format == "text"
    assert Settings.from_env({"ROUTER_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(ValueError, match="ROUTER_LOG_FORMAT: must be one of text, json"):
        Settings.from_env({"ROUTER_LOG_FORMAT": "yaml"})


async def test_each_routed_ticket_is_one_line_with_its_pool_rule_fallback_and_latency(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, publisher = MemoryTicketStore(), MemoryPublisher()
    with caplog.at_level(logging.INFO, logger="router.tickets"):
        await _router(store, publisher).route_batch([_pending("A", "o1"), _pending("B", "o2")])
    lines = [r for r in caplog.records if r.name == "router.tickets"]
    assert [r.__dict__["ticket_id"] for r in lines] == ["A", "B"]
    pools = {t: p for p, t, _ in publisher.published}
    for r in lines:
        assert r.__dict__["pool"] == pools[r.__dict__["ticket_id"]]
        assert isinstance(r.__dict__["rule"], str) and r.__dict__["rule"]
        assert "fallback" in r.__dict__
        assert r.__dict__["latency_ms"] >= 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_service_logs_json_lines_when_asked(tmp_path: Path) -> None:
    # Redis and the broker on closed ports: the service waits for them and says so.
    env = {
        **os.environ,
        "ROUTER_LOG_FORMAT": "json",
        "ROUTER_REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0",
        "ROUTER_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{_closed_port()}/",
        "ROUTER_HTTP_HOST": "127.0.0.1",
        "ROUTER_HTTP_PORT": str(_closed_port()),
    }
    err = tmp_path / "stderr"
    with err.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "router", "serve"], env=env, stderr=sink)
        try:
            deadline = time.monotonic() + 60
            while b"not reachable" not in err.read_bytes():
                assert proc.poll() is None, err.read_text()
                assert time.monotonic() < deadline, err.read_text()
                time.sleep(0.1)
        finally:
            proc.terminate()
            code = proc.wait(30)
    lines = [orjson.loads(line) for line in err.read_text().splitlines() if line.strip()]
    assert code == 0
    waiting = [r for r in lines if "not reachable" in r["message"]]
    assert waiting and all(r["level"] == "WARNING" for r in waiting)
    assert {r["logger"] for r in waiting} == {"router.service.composition"}

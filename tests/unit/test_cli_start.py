"""How ``ticket-router`` starts: ``--version``, which libraries a command that does not
classify imports (none of the learners), and a reader that closes the pipe early."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

import router
from tests.conftest import REPO

# The learners and their numeric stack: seconds of start-up on a small machine.
HEAVY = ("sklearn", "scipy", "numpy")

# Runs main() in a fresh interpreter, then prints the heavy modules it imported and its
# exit status on stderr (stdout belongs to the command).
IMPORTS_PROBE = """
import sys
from router.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(name for name in {heavy!r} if name in sys.modules)
print("imported", heavy, "exit", code, file=sys.stderr)
"""


def closed_env() -> dict[str, str]:
    """The process environment with the servers on closed ports (nothing shared is
    touched) and a name suffix of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTER_")}
    env |= {
        "ROUTER_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",
        "ROUTER_REDIS_URL": "redis://127.0.0.1:1/0",
        "ROUTER_NAME_SUFFIX": f"cli-{uuid.uuid4().hex[:12]}",
    }
    return env


def run_router(
    *argv: str, stdout: int = subprocess.PIPE, code: str | None = None, unbuffered: bool = False
) -> subprocess.CompletedProcess[str]:
    """``python -m router ARGV`` (or ``python -c CODE ARGV``) in the repository, its
    stdout buffered as a console script's is (``unbuffered``: as with PYTHONUNBUFFERED,
    which the image sets), whatever this process was started with."""
    head = ["-c", code] if code is not None else ["-m", "router"]
    env = {k: v for k, v in closed_env().items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return subprocess.run(
        [sys.executable, *head, *argv],
        cwd=REPO,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )


def test_version_prints_the_package_version() -> None:
    done = run_router("--version")
    assert done.stdout == f"ticket-router {router.__version__}\n"
    assert done.stderr == ""
    assert done.returncode == 0


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["--help"], 0),
        (["token", "--help"], 0),
        (["coverage"], 0),
        # Redis is unreachable on port 1: the command fails (exit 1) after its start.
        (["token", "list"], 1),
    ],
)
def test_commands_that_do_not_classify_do_not_import_the_learners(
    argv: list[str], status: int
) -> None:
    done = run_router(*argv, code=IMPORTS_PROBE.format(heavy=HEAVY))
    assert done.stderr.splitlines()[-1] == f"imported [] exit {status}"


def test_the_probe_sees_the_learners_when_they_are_imported() -> None:
    # Without this, a misspelt name in HEAVY would make the test above pass for nothing.
    probe = "import classifiers.training, sys; print(sorted(n for n in {h!r} if n in sys.modules))"
    done = run_router(code=probe.format(h=HEAVY))
    assert done.stdout == "['numpy', 'scipy', 'sklearn']\n"


@pytest.mark.parametrize("unbuffered", [False, True])
@pytest.mark.parametrize("argv", [["coverage"], ["coverage", "--json"], ["--help"]])
def test_a_closed_pipe_ends_the_command_quietly(argv: list[str], unbuffered: bool) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes its first line
    try:
        done = run_router(*argv, stdout=write_end, unbuffered=unbuffered)
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr
    assert done.stderr == ""
    # 141 (128 + SIGPIPE): the command caught the closed pipe, buffered or not (the
    # failure comes at the write, or at the command's own flush).
    assert done.returncode == 141

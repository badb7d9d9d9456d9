"""Every pool copy goes through ``for_pool``: checked on the source, so a new path that
publishes or serves an assignment without it fails here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "router").rglob("*.py"), *(ROOT / "queues").rglob("*.py")])


def _calls(node: ast.AST, name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Call)
        and (
            (isinstance(n.func, ast.Attribute) and n.func.attr == name)
            or (isinstance(n.func, ast.Name) and n.func.id == name)
        )
    ]


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _publications(tree: ast.AST) -> tuple[int, list[str]]:
    """(publications checked, those whose body is not made by for_pool)."""
    checked, bad = 0, []
    for function in _functions(tree):
        if function.name == "publish_assignment":
            continue  # the publisher itself
        for call in _calls(function, "publish_assignment"):
            checked += 1
            body = call.args[2] if len(call.args) > 2 else None
            made = [
                a
                for a in ast.walk(function)
                if isinstance(body, ast.Name)
                and isinstance(a, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == body.id for t in a.targets)
            ]
            if not made or not all(_calls(a.value, "for_pool") for a in made):
                bad.append(f"{function.name}:{call.lineno}")
    return checked, bad


def test_every_published_assignment_is_made_by_for_pool() -> None:
    checked = 0
    for path in SOURCES:
        count, bad = _publications(ast.parse(path.read_text(), str(path)))
        assert bad == [], path.name
        checked += count
    # The router's first publication and the mover's publication after a move.
    assert checked == 2


def test_the_check_finds_a_publication_that_bypasses_for_pool() -> None:
    source = """
async def leak(publisher, record):
    body = orjson.dumps(record)
    await publisher.publish_assignment("p", "t", body)

async def inline(publisher, record):
    await publisher.publish_assignment("p", "t", orjson.dumps(record))

async def fine(publisher, record, mask):
    body = orjson.dumps(for_pool(record, mask))
    await publisher.publish_assignment("p", "t", body)
"""
    assert _publications(ast.parse(source)) == (3, ["leak:4", "inline:7"])


def test_the_agents_endpoints_serve_assignments_through_for_pool() -> None:
    # Every function of the agent-facing modules that reads a stored record and answers
    # with it calls for_pool (the listing's summaries carry no ticket content).
    for name in ("http/agents.py", "http/tickets.py"):
        tree = ast.parse((ROOT / "router" / name).read_text())
        users = [f.name for f in _functions(tree) if _calls(f, "for_pool")]
        assert users, name
    agents = ast.parse((ROOT / "router" / "http" / "agents.py").read_text())
    assert {"_assignment", "_escalated"} <= {
        f.name for f in _functions(agents) if _calls(f, "for_pool")
    }

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


def _assigned(function: ast.AST, name: str) -> list[ast.expr | None]:
    """Every value ``name`` is given in ``function`` (plain or annotated assignments)."""
    values: list[ast.expr | None] = []
    for a in ast.walk(function):
        if (
            isinstance(a, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in a.targets)
        ) or (
            isinstance(a, ast.AnnAssign) and isinstance(a.target, ast.Name) and a.target.id == name
        ):
            values.append(a.value)
    return values


def _made_by_for_pool(function: ast.AST, body: ast.expr | None) -> bool:
    """True when ``body`` is a name whose every value is made by a for_pool call."""
    if not isinstance(body, ast.Name):
        return False
    made = _assigned(function, body.id)
    return bool(made) and all(v is not None and _calls(v, "for_pool") for v in made)


def _batch_ok(function: ast.AST, call: ast.Call) -> bool:
    """A batch publication: a list that starts empty and takes only (pool, ticket, body)
    tuples appended whose body is made by for_pool."""
    items = call.args[0] if call.args else None
    if not isinstance(items, ast.Name):
        return False
    starts = _assigned(function, items.id)
    if starts != [] and not all(isinstance(v, ast.List) and not v.elts for v in starts):
        return False
    appends = [
        c
        for c in _calls(function, "append")
        if isinstance(c.func, ast.Attribute)
        and isinstance(c.func.value, ast.Name)
        and c.func.value.id == items.id
    ]
    added = [c.args[0] if c.args else None for c in appends]
    return bool(starts) and all(
        isinstance(a, ast.Tuple) and len(a.elts) == 3 and _made_by_for_pool(function, a.elts[2])
        for a in added
    )


def _publications(tree: ast.AST) -> tuple[int, list[str]]:
    """(publications checked, those whose body is not made by for_pool)."""
    checked, bad = 0, []
    for function in _functions(tree):
        if function.name in ("publish_assignment", "publish_assignments"):
            continue  # the publisher itself
        for call in _calls(function, "publish_assignment"):
            checked += 1
            if not _made_by_for_pool(function, call.args[2] if len(call.args) > 2 else None):
                bad.append(f"{function.name}:{call.lineno}")
        for call in _calls(function, "publish_assignments"):
            checked += 1
            if not _batch_ok(function, call):
                bad.append(f"{function.name}:{call.lineno}")
    return checked, bad


def test_every_published_assignment_is_made_by_for_pool() -> None:
    checked = 0
    for path in SOURCES:
        count, bad = _publications(ast.parse(path.read_text(), str(path)))
        assert bad == [], path.name
        checked += count
    # The router's batch of first publications and the mover's publication after a move.
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

async def batch_leak(publisher, records, mask):
    batch = []
    for record in records:
        body = record.for_pool(mask)
        batch.append(("p", "t", body))
        batch.append(("p", "t", orjson.dumps(record)))
    await publisher.publish_assignments(batch)

async def batch_given(publisher, batch):
    await publisher.publish_assignments(batch)

async def batch_fine(publisher, records, mask):
    batch: list = []
    for record in records:
        body = record.for_pool(mask)
        batch.append(("p", "t", body))
    await publisher.publish_assignments(batch)
"""
    assert _publications(ast.parse(source)) == (
        6,
        ["leak:4", "inline:7", "batch_leak:19", "batch_given:22"],
    )


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

"""The read-only ``viewer`` scope: what it parses to and what it allows (pure)."""

from __future__ import annotations

import pytest

from router.core.errors import InvalidInput
from router.core.tokens import Principal, Scope, ScopeError, format_scopes, parse_scopes
from router.service.token_creation import AGENT_PROBLEM, token_request


def _who(*scopes: str) -> Principal:
    return Principal("0123456789abcdef", "test", parse_scopes(scopes))


def test_viewer_parses_and_prints_as_itself() -> None:
    assert Scope.parse(" viewer ") == Scope("viewer")
    assert str(Scope("viewer")) == "viewer"
    assert format_scopes(parse_scopes(["viewer", "ingest"])) == "ingest viewer"
    with pytest.raises(ScopeError, match="scope 'viewer' takes no pool id"):
        Scope("viewer", "emea")
    with pytest.raises(ScopeError, match="unknown scope 'Viewer'"):
        Scope.parse("Viewer")


@pytest.mark.parametrize(
    ("scopes", "read", "admin", "ingest"),
    [
        (("viewer",), True, False, False),
        (("admin",), True, True, True),
        (("ingest",), False, False, True),
        (("agent:andes-bpo",), False, False, False),
        (("viewer", "ingest"), True, False, True),
    ],
)
def test_who_may_read_and_who_may_change(
    scopes: tuple[str, ...], read: bool, admin: bool, ingest: bool
) -> None:
    who = _who(*scopes)
    assert (who.allows_read(), who.allows_admin(), who.allows_ingest()) == (read, admin, ingest)


def test_a_viewer_reads_every_pool_but_works_none() -> None:
    viewer = _who("viewer")
    assert viewer.allows_pool_read("andes-bpo") and viewer.allows_pool_read("emea-tier1")
    assert not viewer.allows_pool("andes-bpo")
    assert viewer.pools == frozenset()
    agent = _who("agent:andes-bpo")
    assert agent.allows_pool_read("andes-bpo")
    assert not agent.allows_pool_read("emea-tier1")


def test_a_viewer_token_request_is_valid_and_a_bound_viewer_is_not() -> None:
    assert token_request({"name": "wallboard", "scopes": ["viewer"]}).scope_set() == {
        Scope("viewer")
    }
    with pytest.raises(InvalidInput) as caught:
        token_request({"name": "wallboard", "scopes": ["viewer"], "agent": "ana"})
    assert (caught.value.field, caught.value.problem) == ("agent", AGENT_PROBLEM)


def test_the_unknown_scope_message_names_viewer() -> None:
    with pytest.raises(ScopeError) as caught:
        Scope.parse("root")
    assert str(caught.value) == (
        "unknown scope 'root': expected 'ingest', 'admin', 'viewer' or 'agent:<pool id>'"
    )

"""The dashboard's static files: what is served, with which headers, and what is not
(no listing, no other folder, no unknown kinds of file)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDictProxy

from router.http.dashboard import (
    ASSETS_DIR,
    CONTENT_TYPES,
    CSP,
    IMMUTABLE,
    REVALIDATE,
    AssetCache,
    dashboard_routes,
    public_path,
    resolve_asset,
)
from router.http.errors import error_middleware
from tests.conftest import REPO


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The dashboard routes behind the error middleware, as in the service."""
    app = web.Application(middlewares=[error_middleware])
    app.add_routes(dashboard_routes())
    async with TestClient(TestServer(app)) as c:
        yield c


def _assert_security_headers(headers: CIMultiDictProxy[str]) -> None:
    assert headers.get("Content-Security-Policy") == CSP
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("X-Frame-Options") == "DENY"


def test_the_policy_allows_no_inline_script_and_no_framing() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP


def test_the_page_has_no_inline_script_or_style_and_loads_nothing_from_elsewhere() -> None:
    page = (ASSETS_DIR / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script[^>]*>([^<]*)</script>", page) == [""]
    assert " style=" not in page and "<style" not in page
    assert not re.search(r"\bon[a-z]+=", page)  # no inline event handlers
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    script = (ASSETS_DIR / "dashboard.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "localStorage" not in script and "sessionStorage" not in script
    assert "eval(" not in script and "new Function" not in script


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/"])
async def test_the_page_is_served_revalidated_with_its_assets_hashed(
    client: TestClient[web.Request, web.Application], path: str
) -> None:
    response = await client.get(path)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == REVALIDATE
    _assert_security_headers(response.headers)
    page = await response.text()
    cache = AssetCache()
    for name in ("dashboard.js", "dashboard.css", "favicon.svg"):
        asset = cache.asset(name)
        assert asset is not None
        assert f"/dashboard/assets/{name}?v={asset.digest}" in page
    assert "{{" not in page
    again = await client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status == 304
    assert await again.read() == b""


async def test_an_asset_with_its_hash_is_cached_for_a_year_and_without_it_revalidated(
    client: TestClient[web.Request, web.Application],
) -> None:
    asset = AssetCache().asset("dashboard.js")
    assert asset is not None
    current = await client.get(f"/dashboard/assets/dashboard.js?v={asset.digest}")
    assert current.status == 200
    assert current.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert current.headers["Cache-Control"] == IMMUTABLE
    assert current.headers["ETag"] == asset.etag
    _assert_security_headers(current.headers)
    assert await current.read() == (ASSETS_DIR / "dashboard.js").read_bytes()
    stale = await client.get("/dashboard/assets/dashboard.js?v=0000")
    assert (stale.status, stale.headers["Cache-Control"]) == (200, REVALIDATE)
    css = await client.get("/dashboard/assets/dashboard.css")
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    head = await client.head("/dashboard/assets/dashboard.css")
    assert (head.status, await head.read()) == (200, b"")


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/assets/",
        "/dashboard/assets",
        "/dashboard/assets/index.html",  # the page is served at /dashboard/ only
        "/dashboard/assets/nope.js",
        "/dashboard/assets/..%2Fdashboard.py",
        "/dashboard/assets/%2e%2e/%2e%2e/app.py",
        "/dashboard/assets/%2E%2E%2F%2E%2E%2Fapp.py",
        "/dashboard/assets/..%5Cdashboard.py",
        "/dashboard/assets/../dashboard.py",
        "/dashboard/assets/....//dashboard.py",
        "/dashboard/assets/%2Fetc%2Fpasswd",
        "/dashboard/assets//etc/passwd",
        "/dashboard/assets/dashboard.js%00.css",
        "/dashboard/assets/dashboard.js/",
        "/dashboard/assets/.hidden.js",
        "/dashboard/index.html",
        "/dashboard/x",
    ],
)
async def test_nothing_but_a_known_asset_is_served(
    client: TestClient[web.Request, web.Application], path: str
) -> None:
    response = await client.get(path)
    assert response.status == 404, path
    body = await response.json()
    assert body["error"]["status"] == 404
    assert "ticket-router" not in await response.text()


def test_resolve_refuses_names_that_leave_the_folder_or_are_not_assets(tmp_path: Path) -> None:
    folder = tmp_path / "assets"
    folder.mkdir()
    (folder / "ok.js").write_text("1")
    (folder / "data.json").write_text("{}")
    (tmp_path / "secret.js").write_text("secret")
    (folder / "link.js").symlink_to(tmp_path / "secret.js")
    (folder / "sub.js").mkdir()
    assert resolve_asset("ok.js", folder) == (folder / "ok.js").resolve()
    for name in ["../secret.js", "link.js", "data.json", "sub.js", "", ".", "..", "ok.JS"]:
        assert resolve_asset(name, folder) is None, name


def test_public_paths_are_exactly_the_page_and_the_assets_prefix() -> None:
    for path in ["/dashboard", "/dashboard/", "/dashboard/assets/dashboard.js"]:
        assert public_path(path)
    for path in ["/dashboard/x", "/dashboardx", "/dashboard/assets", "/v1/config", "/"]:
        assert not public_path(path)


def test_every_asset_and_kind_of_asset_is_package_data() -> None:
    """The wheel (and so the image, which installs it) carries every file served."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["router.http"]
    files = sorted(p.name for p in ASSETS_DIR.iterdir())
    assert {"index.html", "dashboard.js", "dashboard.css"} <= set(files)
    for name in files:
        assert any(fnmatch.fnmatch(f"dashboard_assets/{name}", g) for g in globs), name
        assert name == "index.html" or name.endswith(tuple(CONTENT_TYPES)), name

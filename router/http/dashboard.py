"""The ops dashboard served by the service: HTML and assets over the JSON API.

``GET /dashboard`` and ``GET /dashboard/`` answer the page, ``GET /dashboard/assets/<name>``
its stylesheet and script; these three are public (they hold no data: the page signs
in with ``POST /v1/session`` and reads everything else from the JSON API with the
session cookie). Files come only from the package folder ``dashboard_assets``: a
name is one path segment of known extension, resolved and checked to stay inside
that folder, so there is no directory listing and no way out of it.

Every answer carries a Content-Security-Policy without inline script or style
(``default-src 'self'``, ``frame-ancestors 'none'``), ``X-Content-Type-Options:
nosniff`` and cache headers: the page is revalidated on every load (``no-cache`` with
an ``ETag``) and names its assets with their content hash (``?v=``), so an asset asked
for with its current hash is cached for a year and a new release is fetched at once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

ASSETS_DIR = Path(__file__).resolve().with_name("dashboard_assets")
PAGE = "index.html"
ASSETS_PREFIX = "/dashboard/assets/"
#: The dashboard's public paths: exactly these two, and everything under ASSETS_PREFIX.
PAGE_PATHS = frozenset({"/dashboard", "/dashboard/"})
CONTENT_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
# One path segment: letters, digits, '-', '_' and one extension. Anything else (a '/',
# '..', a percent-decoded separator, a NUL) is not an asset name.
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}\.[a-z0-9]{1,8}")
# In the page, {{asset:NAME}} becomes NAME's content hash.
_HASH_SLOT = re.compile(r"\{\{asset:([A-Za-z0-9_.-]+)\}\}")


@dataclass(frozen=True, slots=True)
class Asset:
    """One file to serve: its bytes, type and content hash."""

    body: bytes
    content_type: str
    digest: str

    @property
    def etag(self) -> str:
        """The strong ETag of the body."""
        return f'"{self.digest}"'


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def public_path(path: str) -> bool:
    """Whether ``path`` is one of the dashboard's public paths (no token needed)."""
    return path in PAGE_PATHS or path.startswith(ASSETS_PREFIX)


def resolve_asset(name: str, folder: Path = ASSETS_DIR) -> Path | None:
    """The file of asset ``name`` inside ``folder``, or None when ``name`` is not a
    known kind of asset, leaves the folder or does not exist."""
    if not _NAME.fullmatch(name):
        return None
    suffix = Path(name).suffix
    if suffix not in CONTENT_TYPES:
        return None
    root = folder.resolve()
    path = (root / name).resolve()
    # Resolved (symbolic links followed), the file must still sit in the folder itself.
    if path.parent != root or not path.is_file():
        return None
    return path


class AssetCache:
    """The dashboard's files, read once on first use (they change only with a release)."""

    def __init__(self, folder: Path = ASSETS_DIR) -> None:
        self._folder = folder
        self._assets: dict[str, Asset] = {}
        self._page: Asset | None = None

    def asset(self, name: str) -> Asset | None:
        """The asset ``name``, or None (see :func:`resolve_asset`)."""
        found = self._assets.get(name)
        if found is None:
            path = resolve_asset(name, self._folder)
            if path is None:
                return None
            body = path.read_bytes()
            found = Asset(body, CONTENT_TYPES[path.suffix], _digest(body))
            self._assets[name] = found
        return found

    def page(self) -> Asset:
        """The page, its asset links carrying each asset's content hash."""
        if self._page is None:
            template = (self._folder / PAGE).read_text(encoding="utf-8")

            def digest(match: re.Match[str]) -> str:
                asset = self.asset(match.group(1))
                if asset is None:
                    raise LookupError(f"the page links a missing asset {match.group(1)!r}")
                return asset.digest

            body = _HASH_SLOT.sub(digest, template).encode()
            self._page = Asset(body, "text/html", _digest(body))
        return self._page


_CACHE = AssetCache()


def _respond(request: web.Request, asset: Asset, cache_control: str) -> web.Response:
    headers = {**SECURITY_HEADERS, "Cache-Control": cache_control, "ETag": asset.etag}
    if asset.etag in (t.strip() for t in request.headers.get("If-None-Match", "").split(",")):
        return web.Response(status=304, headers=headers)
    response = web.Response(body=asset.body, content_type=asset.content_type, headers=headers)
    if asset.content_type.startswith("text/") or asset.content_type.endswith("+xml"):
        response.charset = "utf-8"
    return response


async def get_page(request: web.Request) -> web.Response:
    """The dashboard page (public: it holds no data)."""
    return _respond(request, _CACHE.page(), REVALIDATE)


async def get_asset(request: web.Request) -> web.Response:
    """A stylesheet, script or image of the dashboard; 404 for any other name."""
    asset = _CACHE.asset(request.match_info["name"])
    if asset is None:
        raise web.HTTPNotFound()
    current = request.query.get("v") == asset.digest
    return _respond(request, asset, IMMUTABLE if current else REVALIDATE)


def dashboard_routes() -> list[web.RouteDef]:
    """The dashboard's pages and assets (``/dashboard``)."""
    return [
        web.get("/dashboard", get_page),
        web.get("/dashboard/", get_page),
        web.get(ASSETS_PREFIX + "{name:.*}", get_asset),
    ]

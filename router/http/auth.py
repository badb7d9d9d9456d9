"""Authentication (bearer tokens and dashboard sessions) and scope checks for the HTTP API.

Every route needs a credential except the operational ones that load balancers and
Prometheus call (:data:`PUBLIC_PATHS`, exact paths), the dashboard's HTML shell
(:data:`PUBLIC_PAGES`, exact paths: it holds no data) and static assets (under
:data:`PUBLIC_PREFIXES`, plain file names only), and the sign-in itself
(``POST /v1/session``): see :func:`is_public`. Nothing else is public.

A credential is ``Authorization: Bearer <token>`` or, when that header is absent,
the ``tr_session`` cookie of a dashboard session (:mod:`router.http.session`). A
cookie travels with every request the browser makes to this origin, whoever's page
asked for it, so a cookie-authenticated request that may change something (any
method but GET, HEAD and OPTIONS) must also carry the session's CSRF value in
``X-CSRF-Token`` (403 otherwise); a page of another origin cannot read that value.
Bearer requests need no CSRF value: a browser never adds that header by itself.

Handlers state the scope they need with :func:`require_ingest`, :func:`require_admin`
(changes), :func:`require_read` (the admin reads, also open to ``viewer``),
:func:`require_pool` or :func:`require_pool_read`; a refusal is the same whatever the
resource, so it reveals nothing about it.

Failed authentications -- a credential presented that is not a valid token or
session, or a refused sign-in -- are rate-limited per client address
(:class:`FailureLimiter`): past 100 at once, then 2 a second, that address gets 429
with ``Retry-After`` -- before its token is even looked at -- until the bucket refills.
A request with no credential at all guesses nothing and is not counted. Each replica
keeps its own buckets, so N replicas allow N times the rate; behind a proxy the
address is the proxy's.
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from router.core.errors import TransientError
from router.core.sessions import csrf_matches
from router.core.tokens import Principal
from router.http import appkeys as K
from router.http.util import error_body
from router.service.ports import SessionStore
from router.service.sessions import ActiveSession, Sessions

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})
#: The dashboard's HTML shell: exact paths, public because it holds no data (the page
#: reads everything through the API, signed in).
PUBLIC_PAGES = frozenset({"/dashboard", "/dashboard/"})
#: Static files, public under these prefixes -- but only a plain relative file path
#: (no empty, "." or ".." segment, no backslash, no percent sign left after decoding).
PUBLIC_PREFIXES = ("/dashboard/assets/",)
#: The sign-in: it takes the token in its body, so it needs no credential.
SIGN_IN = ("POST", "/v1/session")
SESSION_COOKIE = "tr_session"
CSRF_HEADER = "X-CSRF-Token"
# Methods that change nothing: cookie requests with them need no CSRF value.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PRINCIPAL = web.RequestKey("principal", Principal)
_SESSION = web.RequestKey("session", ActiveSession)
#: A session store set here before the app starts (in-memory tests) is used instead
#: of the Redis one built on the service's client.
SESSION_STORE = web.AppKey[SessionStore]("session_store")
# Failed authentications a client may make at once, and how fast that allowance refills.
FAILURE_BURST = 100
FAILURES_PER_SECOND = 2.0


class FailureLimiter:
    """A token bucket of failed authentications per client address (in memory)."""

    def __init__(
        self,
        burst: int = FAILURE_BURST,
        per_second: float = FAILURES_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self._clock = clock
        self._max = max_clients
        # address -> (tokens left, when counted); oldest first, so memory stays bounded.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _tokens(self, address: str) -> float:
        tokens, at = self._buckets.get(address, (float(self.burst), self._clock()))
        return min(float(self.burst), tokens + (self._clock() - at) * self.per_second)

    def retry_after(self, address: str) -> float:
        """0 if ``address`` may try to authenticate now, else the seconds to wait."""
        missing = 1.0 - self._tokens(address)
        return 0.0 if missing <= 0 else missing / self.per_second

    def failed(self, address: str) -> None:
        """Count one failed authentication of ``address``."""
        self._buckets[address] = (self._tokens(address) - 1.0, self._clock())
        self._buckets.move_to_end(address)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)


# One limiter per application (tests run several apps in one process).
_LIMITERS: weakref.WeakKeyDictionary[web.Application, FailureLimiter] = weakref.WeakKeyDictionary()


def failure_limiter(app: web.Application) -> FailureLimiter:
    """The failed-authentication limiter of ``app`` (made on first use)."""
    limiter = _LIMITERS.get(app)
    if limiter is None:
        limiter = _LIMITERS[app] = FailureLimiter()
    return limiter


def _plain_file_path(rest: str) -> bool:
    if not rest or "\\" in rest or "%" in rest or "\x00" in rest:
        return False
    return all(segment not in ("", ".", "..") for segment in rest.split("/"))


def is_public(method: str, path: str) -> bool:
    """Whether ``method path`` (the decoded path) needs no credential."""
    if path in PUBLIC_PATHS or path in PUBLIC_PAGES or (method, path) == SIGN_IN:
        return True
    return any(
        path.startswith(prefix) and _plain_file_path(path.removeprefix(prefix))
        for prefix in PUBLIC_PREFIXES
    )


# One session use case per application, made on first use over the service's stores.
_SESSIONS: weakref.WeakKeyDictionary[web.Application, Sessions] = weakref.WeakKeyDictionary()


def sessions(app: web.Application) -> Sessions | None:
    """The session use case of ``app`` over ``app[SESSION_STORE]`` (the composition
    root's Redis store, or a test's); None when the service has no session store."""
    found = _SESSIONS.get(app)
    if found is None:
        store = app.get(SESSION_STORE)
        if store is None:
            return None
        found = _SESSIONS[app] = Sessions(app[K.TOKENS], store)
    return found


def came_over_https(request: web.Request) -> bool:
    """True when the browser's request was https: to this server, or to a proxy in
    front of it that says so (``X-Forwarded-Proto: https``, or ``proto=https`` in
    ``Forwarded``, the first proxy's). Only the cookie's Secure flag hangs on it, so a
    client that sends the header itself gains nothing: it only makes its own cookie
    https-only."""
    if request.secure:
        return True
    forwarded_proto = request.headers.get("X-Forwarded-Proto", "")
    if forwarded_proto.split(",")[0].strip().lower() == "https":
        return True
    first = request.headers.get("Forwarded", "").split(",")[0]
    for pair in first.split(";"):
        name, _, value = pair.strip().partition("=")
        if name.lower() == "proto" and value.strip('"').lower() == "https":
            return True
    return False


def clear_session_cookie(response: web.StreamResponse, request: web.Request) -> None:
    """Tell the browser to drop the session cookie (same attributes as when set)."""
    response.set_cookie(
        SESSION_COOKIE,
        "",
        max_age=0,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=came_over_https(request),
    )


def _error(
    cls: type[web.HTTPException], message: str, *, field: str | None = None, **headers: str
) -> web.HTTPException:
    body = orjson.dumps(error_body(cls.status_code, field, message)).decode()
    return cls(text=body, content_type="application/json", headers=headers or None)


def count_failure(request: web.Request) -> None:
    """Count one failed authentication of the request's client address."""
    limiter = failure_limiter(request.app)
    address = request.remote or "unknown"
    limiter.failed(address)
    if limiter.retry_after(address) > 0:  # logged once each time an address runs dry
        log.warning("too many failed authentications from %s: answering 429 for now", address)


def too_many_failures(request: web.Request) -> web.HTTPException | None:
    """The 429 for a client address past its failed authentications, or None."""
    wait = failure_limiter(request.app).retry_after(request.remote or "unknown")
    if wait <= 0:
        return None
    return _error(
        web.HTTPTooManyRequests,
        "too many failed authentications from this address; retry later",
        **{"Retry-After": str(math.ceil(wait))},
    )


def _unauthorized(request: web.Request, message: str, header: str) -> web.HTTPException:
    count_failure(request)
    return _error(
        web.HTTPUnauthorized, message, field="Authorization", **{"WWW-Authenticate": header}
    )


@web.middleware
async def starting_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """503 for everything but the public paths while the service is still opening (the
    app started in the background: see ``router.http.app.create_app``)."""
    if K.SERVICE in request.app or request.path in PUBLIC_PATHS:
        return await handler(request)
    raise _error(
        web.HTTPServiceUnavailable,
        "the service is starting; GET /readyz says what it waits for",
        **{"Retry-After": "1"},
    )


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate ``Authorization: Bearer <token>``, or without that header the
    session cookie (plus ``X-CSRF-Token`` unless the method is safe); 401 when missing
    or not valid, 403 for a missing or wrong CSRF value, 429 after too many failures
    from the same address."""
    if is_public(request.method, request.path):
        return await handler(request)
    if (refused := too_many_failures(request)) is not None:
        raise refused
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not scheme.strip() and not token.strip():
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return await _with_session(request, handler, cookie)
        raise _error(
            web.HTTPUnauthorized,
            "a bearer token is required",
            field="Authorization",
            **{"WWW-Authenticate": "Bearer"},
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized(request, "a bearer token is required", "Bearer")
    try:
        principal = await request.app[K.TOKENS].authenticate(token.strip())
    except TransientError:
        raise _error(web.HTTPServiceUnavailable, "the token store is unavailable") from None
    if principal is None:
        raise _unauthorized(
            request,
            "the token is not valid (unknown, revoked or expired)",
            'Bearer error="invalid_token"',
        )
    request[_PRINCIPAL] = principal
    return await handler(request)


async def _with_session(
    request: web.Request, handler: Handler, session_id: str
) -> web.StreamResponse:
    use_case = sessions(request.app)
    if use_case is None:
        raise _error(web.HTTPServiceUnavailable, "sessions are not available on this service")
    try:
        active = await use_case.resolve(session_id)
    except TransientError:
        raise _error(web.HTTPServiceUnavailable, "the session store is unavailable") from None
    if active is None:
        count_failure(request)
        refusal = _error(
            web.HTTPUnauthorized,
            "the session is not valid (unknown, ended, or its token revoked or expired); "
            "sign in again",
            field=SESSION_COOKIE,
            **{"WWW-Authenticate": "Bearer"},
        )
        clear_session_cookie(refusal, request)  # the browser stops sending it
        raise refusal
    if request.method not in SAFE_METHODS and not csrf_matches(
        request.headers.get(CSRF_HEADER), active.session.csrf
    ):
        log.info("refused %s %s: session without its CSRF value", request.method, request.path)
        raise _error(
            web.HTTPForbidden,
            f"a signed-in request that changes something needs the header {CSRF_HEADER} "
            "with the session's csrf value",
            field=CSRF_HEADER,
        )
    request[_PRINCIPAL] = active.principal
    request[_SESSION] = active
    return await handler(request)


def current_session(request: web.Request) -> ActiveSession | None:
    """The session this request was authenticated by (None for a bearer token)."""
    return request.get(_SESSION)


def principal(request: web.Request) -> Principal:
    """The authenticated caller of this request."""
    return request[_PRINCIPAL]


def _forbidden(request: web.Request, need: str) -> web.HTTPException:
    who = principal(request)
    log.info(
        "refused %s %s to token %s: needs %s", request.method, request.path, who.token_id, need
    )
    return _error(web.HTTPForbidden, f"this token does not have the scope {need}")


def require_admin(request: web.Request) -> Principal:
    """The caller, if it has the ``admin`` scope; else 403."""
    who = principal(request)
    if not who.allows_admin():
        raise _forbidden(request, "admin")
    return who


def require_read(request: web.Request) -> Principal:
    """The caller, if it may read what ops read (``admin`` or ``viewer``); else 403.
    For the admin endpoints that change nothing; those that do keep
    :func:`require_admin`."""
    who = principal(request)
    if not who.allows_read():
        raise _forbidden(request, "admin or viewer")
    return who


def require_ingest(request: web.Request) -> Principal:
    """The caller, if it may submit tickets (``ingest`` or ``admin``); else 403."""
    who = principal(request)
    if not who.allows_ingest():
        raise _forbidden(request, "ingest")
    return who


def require_pool(request: web.Request, pool_id: str) -> Principal:
    """The caller, if it may work pool ``pool_id`` (``agent:<pool>`` or ``admin``); else 403."""
    who = principal(request)
    if not who.allows_pool(pool_id):
        raise _forbidden(request, f"agent:{pool_id}")
    return who


def require_pool_read(request: web.Request, pool_id: str) -> Principal:
    """The caller, if it may read pool ``pool_id``'s status and listing (its agents,
    ``admin`` or ``viewer``); else 403."""
    who = principal(request)
    if not who.allows_pool_read(pool_id):
        raise _forbidden(request, f"agent:{pool_id} or viewer")
    return who


def actor(request: web.Request) -> str:
    """How the audit log names the caller."""
    who = principal(request)
    return f"token:{who.token_id}:{who.name}"

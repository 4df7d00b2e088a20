"""The web client's production build (client/dist), served at / as a single-page app.

Files are served as they are: Vite's fingerprinted `/assets/*` are cached for a year,
everything else is revalidated. A GET for a path that is no file but looks like one of
the client's routes (no file extension, a browser asking for HTML) gets index.html, so
that /profile or /staff/users can be reloaded or linked to; a missing asset stays a 404.

index.html carries the page's Content-Security-Policy; every other header, and the
lock-down policy of the other files, comes from SecurityHeadersMiddleware."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

INDEX = "index.html"
ASSETS = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
# Explicit, so the answer does not depend on the machine's mimetypes tables: browsers
# refuse a module script or a style sheet of another type (X-Content-Type-Options).
_MEDIA_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}
# What a browser navigating to a page sends; API clients and asset loads ask for others.
_HTML_MEDIA_TYPES = frozenset({"text/html", "text/*", "*/*"})
# A Host header as browsers send it: a name or an address, maybe a port. Anything else
# (a `;` would start a new directive) is never copied into the policy.
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def has_client(directory: Path) -> bool:
    """Whether `directory` holds a client build: its index.html."""
    return (directory / INDEX).is_file()


def content_security_policy(host: str | None) -> str:
    """index.html's policy. The built app loads its scripts and styles from /assets/
    (no inline <script> or <style>, no style attributes: checked by its tests), so
    'unsafe-inline' is needed for neither.

    The live audit log opens a graphql-ws websocket to /graphql on this host. CSP 3
    counts same-host ws:/wss: as 'self', but not every browser in use implements that,
    so they are named: for this request's Host only, never `ws: wss:` (any host), which
    would let an injected script send data anywhere. Both schemes, because behind a
    TLS-terminating proxy that does not say so the request looks like plain http."""
    connect = ["'self'"]
    if host and _HOST.match(host):
        connect += [f"ws://{host}", f"wss://{host}"]
    policy = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "connect-src": " ".join(connect),
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def wants_html(headers: Headers) -> bool:
    """The request accepts HTML: a navigation, not a fetch for data or an asset.
    No Accept header means anything is accepted."""
    accept = headers.get("accept")
    if accept is None:
        return True
    return any(
        part.split(";", 1)[0].strip().lower() in _HTML_MEDIA_TYPES for part in accept.split(",")
    )


def is_client_route(path: str) -> bool:
    """A path (relative, as StaticFiles normalizes it: "." for /) that the client's
    router handles: not under /assets/, no file extension, and not above the build
    (normalized, only a path that climbs out of it still starts with "..")."""
    parts = [part for part in PurePosixPath(path).parts if part != "."]
    if parts and parts[0] in (ASSETS, ".."):
        return False
    return not parts or "." not in parts[-1]


class ClientApp(StaticFiles):
    """The files of a client build; index.html for the client's own routes."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory)
        # Resolved like the paths StaticFiles finds (symbolic links followed).
        self.root = directory.resolve()

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as missing:
            # 405 (with Allow) for other methods; 404 for a missing asset, or for a
            # request that does not ask for a page.
            if missing.status_code != 404 or not (
                is_client_route(path) and wants_html(Headers(scope=scope))
            ):
                raise
        response = await super().get_response(INDEX, scope)
        # The same URL is a 404 for a request that does not accept HTML.
        response.headers["vary"] = "Accept"
        return response

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        relative = PurePosixPath(Path(full_path).relative_to(self.root))
        headers = {"cache-control": "no-cache"}
        if relative.parts[0] == ASSETS:
            # Vite names them by their content: a new build brings new names.
            headers["cache-control"] = IMMUTABLE
        elif relative == PurePosixPath(INDEX):
            headers["content-security-policy"] = content_security_policy(
                Headers(scope=scope).get("host")
            )
        response = FileResponse(
            full_path,
            status_code=status_code,
            stat_result=stat_result,
            headers=headers,
            media_type=_MEDIA_TYPES.get(relative.suffix),
        )
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            not_modified = NotModifiedResponse(response.headers)
            # A browser stores the headers of a 304 over the cached page's: without the
            # page's own policy it would take the lock-down one SecurityHeadersMiddleware
            # gives responses that are not HTML, and the page would no longer load.
            policy = headers.get("content-security-policy")
            if policy is not None:
                not_modified.headers["content-security-policy"] = policy
            return not_modified
        return response

"""GraphiQL's page, vendored, with a hash-based policy, and the only files it loads."""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

GRAPHIQL_ASSETS_PATH = "/graphiql/assets"
# GraphiQL's page and the files it loads, vendored (see its README.md) so it needs no CDN.
GRAPHIQL_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
_GRAPHIQL_ASSET = re.compile(r'(?:src|href)="/graphiql/assets/([^"/]+)"')
# The page's own inline blocks: tags with attributes (src=...) are not inline. Comments
# go first, since one may mention a tag.
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_INLINE_BLOCK = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
# Explicit, so the answer does not depend on the machine's mimetypes tables: browsers
# refuse a script or a style sheet of another type under X-Content-Type-Options: nosniff.
_ASSET_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}


@dataclass(frozen=True)
class GraphiQLPage:
    """GraphiQL's page (index.html in `directory`), its policy and the assets it loads."""

    directory: Path
    html: str
    content_security_policy: str
    assets: frozenset[str]

    @classmethod
    def load(cls, directory: Path) -> GraphiQLPage:
        # read_text's universal newlines give the text a browser hashes (it reads CR LF
        # as LF too), whatever line endings the checkout has.
        html = (directory / "index.html").read_text(encoding="utf-8")
        inline: dict[str, list[str]] = {"script": [], "style": []}
        for tag, body in _INLINE_BLOCK.findall(_HTML_COMMENT.sub("", html)):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            inline[tag].append(f"'sha256-{digest}'")
        policy = {
            "default-src": "'none'",
            # The page's inline blocks by hash, not 'unsafe-inline': an injected
            # <script> or <style> would not run. GraphiQL also adds a <style> when a
            # dialog locks scrolling (react-remove-scroll, no way to give it a nonce);
            # that one is refused, which costs nothing as the page never scrolls.
            "script-src": " ".join(["'self'", *inline["script"]]),
            "style-src": " ".join(["'self'", *inline["style"]]),
            # Queries go to this origin; subscriptions to its WebSocket, which older
            # browsers do not count as 'self'.
            "connect-src": "'self' ws: wss:",
            # graphiql.min.css embeds its fonts as data: URLs.
            "font-src": "'self' data:",
            "img-src": "'self' data:",
            "base-uri": "'none'",
            "form-action": "'none'",
            "frame-ancestors": "'none'",
        }
        return cls(
            directory=directory,
            html=html,
            content_security_policy="; ".join(f"{k} {v}" for k, v in policy.items()),
            assets=frozenset(_GRAPHIQL_ASSET.findall(html)),
        )

    def render(self, root_path: str) -> str:
        # Asset URLs are absolute paths; an app mounted under a prefix serves them there.
        if not root_path:
            return self.html
        return self.html.replace(
            f'="{GRAPHIQL_ASSETS_PATH}/', f'="{root_path.rstrip("/")}{GRAPHIQL_ASSETS_PATH}/'
        )


@functools.cache
def load_graphiql_page(directory: Path) -> GraphiQLPage:
    """Read once per process: every app built (tests build many) shares the page."""
    return GraphiQLPage.load(directory)


class GraphiQLAssets(StaticFiles):
    """The files GraphiQL's page loads, and no other file of its directory: not the
    template, which is only served by the view, with its policy."""

    def __init__(self, page: GraphiQLPage) -> None:
        super().__init__(directory=page.directory)
        self.assets = page.assets

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if path not in self.assets:
            return "", None
        return super().lookup_path(path)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = FileResponse(
            full_path,
            status_code=status_code,
            stat_result=stat_result,
            media_type=_ASSET_MEDIA_TYPES.get(Path(full_path).suffix),
            # Revalidate every time: the page pins each file by its integrity hash, so a
            # stale copy kept after an update would be refused and break the page.
            headers={"cache-control": "no-cache"},
        )
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response

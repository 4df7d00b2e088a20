"""CSRF prevention as in Apollo Server: a GET runs only when a browser could not have
sent it cross-site without a CORS preflight."""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.datastructures import Headers

from api.http.graphql.transport import TransportError

# The Content-Types a page may send cross-site without a CORS preflight (the Fetch
# standard's CORS-safelisted ones), as in Apollo Server's CSRF prevention.
NON_PREFLIGHTED_CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
)
# A MIME type essence as WHATWG's parser accepts it: token "/" token.
_MIME_ESSENCE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HTTP_WHITESPACE = " \t\r\n"


def csrf_safe(headers: Headers, preflight_headers: Iterable[str]) -> bool:
    """Whether a browser could only have sent this request after a CORS preflight,
    which only CORS_ORIGINS pass: Apollo Server's rule, plus a Bearer token.

    - A Content-Type that is present and not one of NON_PREFLIGHTED_CONTENT_TYPES (an
      unparseable one too: browsers preflight it). Apollo Client Web sends
      `content-type: application/json` even on GET.
    - Or a non-empty value for one of `preflight_headers` (CSRF_PREFLIGHT_HEADERS):
      a page can set no such header cross-site without a preflight.
    - Or `Authorization: Bearer ...`. Authorization is never CORS-safelisted, so a
      page setting it cross-site is preflighted like any custom header; and a browser
      never adds a Bearer token on its own. (It may add Basic or Negotiate credentials
      it holds for this site, so only the Bearer scheme counts.)"""
    content_type = headers.get("content-type")
    if content_type is not None:
        essence = content_type.split(";", 1)[0].strip(_HTTP_WHITESPACE).lower()
        if not _MIME_ESSENCE.fullmatch(essence) or essence not in NON_PREFLIGHTED_CONTENT_TYPES:
            return True
    if any(headers.get(name) for name in preflight_headers):
        return True
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(credentials.strip())


def csrf_refusal(preflight_headers: Iterable[str]) -> TransportError:
    # Apollo Server's wording, so that clients and searches recognise it.
    return TransportError(
        400,
        "This operation has been blocked as a potential Cross-Site Request Forgery "
        "(CSRF). Please either specify a 'content-type' header (with a type that is not "
        f"one of {', '.join(NON_PREFLIGHTED_CONTENT_TYPES)}) or provide a non-empty value "
        f"for one of the following headers: {', '.join(preflight_headers)}",
    )

"""``href`` values (TMF630: every resource carries the URI it can be retrieved at).

Built from the base URL the client used (``common.request_context``, set by the server middleware from
``Host``/``X-Forwarded-*``) and the API's base path, so links work behind a proxy and in tests alike.
"""

from __future__ import annotations

from urllib.parse import quote

from common import request_context


def href(base_path: str, *segments: str) -> str:
    """``<scheme://host><base_path>/<segment>/...``; a relative URI when no request is in progress."""
    path = "/".join(quote(segment, safe="") for segment in segments)
    return f"{request_context.current().base_url}{base_path.rstrip('/')}/{path}"

"""``href`` values (TMF630: every resource carries the URI it can be retrieved at).

Built from the base URL the client used (``common.request_context``, set by the server middleware from
``Host``/``X-Forwarded-*``) and the API's base path, so links work behind a proxy and in tests alike.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from common import request_context

# RFC 3986 §2.3 unreserved characters: a segment made only of them (a UUID, a collection name) is its own
# percent-encoding, so quote() can be skipped (it was a tenth of a 100-resource list's CPU time).
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*")


def _segment(text: str) -> str:
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


def href(base_path: str, *segments: str) -> str:
    """``<scheme://host><base_path>/<segment>/...``; a relative URI when no request is in progress."""
    path = "/".join(_segment(segment) for segment in segments)
    return f"{request_context.current().base_url}{base_path.rstrip('/')}/{path}"

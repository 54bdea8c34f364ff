"""The landing page at ``/``: every API with its explorer (Swagger UI) and its spec, plus /health."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from server.apis import APIS


def landing_page(request: Request) -> HTMLResponse:
    rows = "\n".join(
        f"<tr><td>{html.escape(api.title)}</td><td><code>{api.base_path}</code></td>"
        f'<td><a href="{api.base_path}/ui/">API explorer</a></td>'
        f'<td><a href="{api.base_path}/openapi.json">OpenAPI spec</a></td></tr>'
        for api in APIS
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Provisio</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem}}
td,th{{padding:.3rem 1rem;text-align:left}}code{{background:#f3f3f3}}</style></head>
<body><h1>Provisio</h1>
<p>Open telecom fulfilment server: TM Forum Open APIs, inventory and activation.</p>
<table><tr><th>API</th><th>Base path</th><th></th><th></th></tr>
{rows}
</table>
<p><a href="/health">Health</a></p>
</body></html>"""
    return HTMLResponse(page)


def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "apis": [api.base_path for api in APIS]})

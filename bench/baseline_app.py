"""The baseline: a bare Starlette JSON endpoint, served by uvicorn exactly as the API is.

``GET /json`` answers a small JSON object (the latency baseline); ``POST /json`` parses the JSON body and
answers it with an id and 201 (the throughput baseline for creates). No database, no validation: the
cheapest JSON round trip this machine's Python/uvicorn stack can do, so ratios show what Provisio adds.
"""

from __future__ import annotations

import itertools

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_ids = itertools.count(1)


async def read(request: Request) -> JSONResponse:
    return JSONResponse({"id": "42", "@type": "LogicalResource", "name": "baseline", "resourceStatus": "available"})


async def create(request: Request) -> JSONResponse:
    body = await request.json()
    body["id"] = str(next(_ids))
    return JSONResponse(body, status_code=201)


app = Starlette(routes=[Route("/json", read, methods=["GET"]), Route("/json", create, methods=["POST"])])

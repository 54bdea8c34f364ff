"""The baselines: bare Starlette endpoints, served by uvicorn exactly as the API is.

Without a database (always served):

- ``GET /json`` answers a small JSON object (the do-nothing latency baseline); ``POST /json`` parses the
  JSON body and answers it with an id and 201 (the do-nothing throughput baseline). They tell how much
  work a request does, not how close it is to what this stack can do.

With ``BASELINE_DATABASE_URL`` (the benchmark's own, migrated database; SQLite or PostgreSQL), the same
work as the API's, hand-written as raw SQL on the DB-API driver (sqlite3 / psycopg) with a small pool,
each request's database work run in Starlette's thread pool as the API's sync handlers are:

- ``POST /sql/resource`` (``baseline.sql_insert``): parse the body, then in one transaction the statements
  a TMF639 create runs: INSERT the ``resource`` row, its ``audit_record``, its ``event_outbox`` event
  (``RETURNING seq``) and the read of the API's ``event_subscription`` rows (``FOR KEY SHARE`` on
  PostgreSQL); answer the document (201).
- ``GET /sql/resource?resourceStatus=&category=&limit=&offset=`` (``baseline.sql_list``): the same
  count + page query as the API's list (same filter, order ``created_at, id``, LIMIT/OFFSET), the same
  documents (columns merged with the JSON document, ``href``) serialised.
- ``GET /sql/resource/{id}`` (``baseline.sql_retrieve``): the same SELECT by id and document.
- ``POST /sql/take`` (``baseline.sql_take.c1`` / ``.c16``): take one free row of ``baseline_take``
  (``prepare_take_table``) with ``UPDATE ... WHERE id = (SELECT id ... FOR UPDATE SKIP LOCKED LIMIT 1)
  RETURNING id`` and commit: the floor for every reservation and allocation benchmark. SQLite has no row
  locks: there it runs ``BEGIN IMMEDIATE`` (the database-wide write lock, as the API's writers take it)
  and the same UPDATE without ``FOR UPDATE SKIP LOCKED``, so its takes are serialised by that lock.

Response bodies are encoded by orjson, as the API's are (``server.responses``), JSON columns written by the
API's own column encoder (``server.db.json_text``, orjson) and read with the standard library's
``json.loads``, as SQLAlchemy reads them for the API: the baseline differs from the API only by what the
API adds (connexion, validation, the ORM, mapping), never by a faster or slower codec for the same step.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import queue
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.db import json_text

_ids = itertools.count(1)

DATABASE_URL_VARIABLE = "BASELINE_DATABASE_URL"
API = "resourceInventoryManagement"
HREF_BASE = "/tmf-api/resourceInventoryManagement/v4/resource/"
POOL_SIZE = 10  # as server.db's pool
TAKE_TABLE = "baseline_take"

# TMF attribute -> column, as oss.resource_inventory.mapping keeps them.
_COLUMNS = {
    "name": "name",
    "category": "category",
    "description": "description",
    "resourceStatus": "resource_status",
    "usageState": "usage_state",
    "administrativeState": "administrative_state",
    "operationalState": "operational_state",
    "resourceVersion": "resource_version",
}
_DATES = {"startOperatingDate": "start_operating_date", "endOperatingDate": "end_operating_date"}
_SERVER_SET = frozenset({"id", "href", "@type", "@baseType"})
_SELECT_COLUMNS = (
    "id, type, base_type, name, category, description, resource_status, usage_state, administrative_state,"
    " operational_state, start_operating_date, end_operating_date, resource_version, document, created_at,"
    " updated_at, row_version"
)


async def read(request: Request) -> JSONResponse:
    return JSONResponse({"id": "42", "@type": "LogicalResource", "name": "baseline", "resourceStatus": "available"})


async def create(request: Request) -> JSONResponse:
    body = await request.json()
    body["id"] = str(next(_ids))
    return JSONResponse(body, status_code=201)


# ------------------------------------------------------------------------------------------ the database


class Database:
    """DB-API connections to one database, a LIFO pool of ``POOL_SIZE``; ``?`` placeholders either way."""

    def __init__(self, url: str) -> None:
        self.postgres = url.startswith("postgresql")
        self._url = url
        self._pool: queue.LifoQueue[Any] = queue.LifoQueue()
        for _ in range(POOL_SIZE):
            self._pool.put(self._connect())

    def _connect(self) -> Any:
        if self.postgres:
            import psycopg

            return psycopg.connect(_libpq_url(self._url))
        path = self._url.split("///", 1)[1]
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            connection.execute(f"PRAGMA {pragma}")
        return connection

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[Any]:
        """A cursor in one transaction: committed on success, rolled back on any exception."""
        connection = self._pool.get()
        try:
            cursor = connection.cursor()
            if not self.postgres:  # psycopg begins implicitly; SQLite writers take the write lock up front
                cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
            try:
                yield cursor
            except BaseException:
                connection.rollback() if self.postgres else cursor.execute("ROLLBACK")
                raise
            connection.commit() if self.postgres else cursor.execute("COMMIT")
        finally:
            self._pool.put(connection)

    def close(self) -> None:
        while not self._pool.empty():
            self._pool.get().close()


def _libpq_url(url: str) -> str:
    """postgresql+psycopg://... (SQLAlchemy's spelling) -> postgresql://... (libpq's)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


def _db(request: Request) -> Database:
    database: Database | None = request.app.state.database
    if database is None:
        raise RuntimeError(f"{DATABASE_URL_VARIABLE} is not set: the SQL baselines need a database")
    return database


def _json(document: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(document) + b"\n", status_code=status, media_type="application/json")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(database: Database, moment: dt.datetime) -> Any:
    # As server's UTCDateTime stores it: naive UTC text on SQLite, timestamptz on PostgreSQL.
    return moment if database.postgres else moment.replace(tzinfo=None).isoformat(sep=" ")


# ------------------------------------------------------------------------------------- sql_insert (create)


def insert_resource(database: Database, body: dict[str, Any]) -> dict[str, Any]:
    resource_id, moment = str(uuid.uuid4()), _now()
    columns = {column: body.get(attribute) for attribute, column in _COLUMNS.items()}
    attributes = {key: value for key, value in body.items() if key not in _SERVER_SET and key not in _COLUMNS}
    type_name = str(body.get("@type") or "LogicalResource")
    stamp = _stamp(database, moment)
    row = {"id": resource_id, "type": type_name, "base_type": "Resource", **columns, "document": attributes}
    document = {"id": resource_id, "href": HREF_BASE + resource_id, "@type": type_name, "@baseType": "Resource"}
    document.update((attribute, body[attribute]) for attribute in _COLUMNS if body.get(attribute) is not None)
    document.update(attributes)
    event_id = str(uuid.uuid4())
    payload = {
        "eventId": event_id,
        "eventTime": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "eventType": "ResourceCreateEvent",
        "@type": "ResourceCreateEvent",
        "@baseType": "Event",
        "domain": API,
        "event": {"resource": document},
    }
    audit_after = {**row, "created_at": moment.isoformat(), "updated_at": moment.isoformat(), "row_version": 1}
    for_key_share = " FOR KEY SHARE" if database.postgres else ""
    with database.transaction(write=True) as cursor:
        cursor.execute(
            database.sql(
                "INSERT INTO resource (id, type, base_type, name, category, description, resource_status,"
                " usage_state, administrative_state, operational_state, start_operating_date, end_operating_date,"
                " resource_version, document, created_at, updated_at, row_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"
            ),
            (
                resource_id,
                type_name,
                "Resource",
                *(columns[column] for column in _COLUMNS.values() if column != "resource_version"),
                None,  # start_operating_date
                None,  # end_operating_date
                columns["resource_version"],
                json_text(attributes),
                stamp,
                stamp,
            ),
        )
        cursor.execute(
            database.sql(
                'INSERT INTO audit_record (recorded_at, actor, request_id, entity_type, entity_id, action, "before",'
                ' "after") VALUES (?, ?, ?, ?, ?, ?, ?, ?)'
            ),
            (stamp, "anonymous", uuid.uuid4().hex, "resource", resource_id, "create", "null", json_text(audit_after)),
        )
        cursor.execute(
            database.sql(
                "INSERT INTO event_outbox (event_id, api, event_type, payload, created_at)"
                " VALUES (?, ?, ?, ?, ?) RETURNING seq"
            ),
            (event_id, API, "ResourceCreateEvent", json_text(payload), stamp),
        )
        cursor.fetchone()
        cursor.execute(
            database.sql(f'SELECT id, "query" FROM event_subscription WHERE api = ? ORDER BY id{for_key_share}'),
            (API,),
        )
        cursor.fetchall()
    return document


async def sql_create(request: Request) -> Response:
    body = json.loads(await request.body())  # the API's guard parses with the standard library too
    document = await run_in_threadpool(insert_resource, _db(request), body)
    return _json(document, 201)


# -------------------------------------------------------------------------------- sql_list / sql_retrieve


def _document(database: Database, row: tuple[Any, ...]) -> dict[str, Any]:
    values = dict(zip(_SELECT_COLUMNS.split(", "), row, strict=True))
    document: dict[str, Any] = {
        "id": values["id"],
        "href": HREF_BASE + values["id"],
        "@type": values["type"],
        "@baseType": values["base_type"],
    }
    for attribute, column in _COLUMNS.items():
        if values[column] is not None:
            document[attribute] = values[column]
    for attribute, column in _DATES.items():
        if values[column] is not None:
            document[attribute] = str(values[column])
    stored = values["document"]
    document.update(stored if isinstance(stored, dict) else json.loads(stored or "{}"))
    return document


def list_resources(database: Database, status: str, category: str, limit: int, offset: int) -> list[dict[str, Any]]:
    where = "WHERE resource_status = ? AND category = ?"
    with database.transaction(write=False) as cursor:
        cursor.execute(database.sql(f"SELECT count(*) FROM resource {where}"), (status, category))
        cursor.fetchone()
        cursor.execute(
            database.sql(f"SELECT {_SELECT_COLUMNS} FROM resource {where} ORDER BY created_at, id LIMIT ? OFFSET ?"),
            (status, category, limit, offset),
        )
        rows = cursor.fetchall()
    return [_document(database, row) for row in rows]


async def sql_list(request: Request) -> Response:
    query = request.query_params
    documents = await run_in_threadpool(
        list_resources,
        _db(request),
        query.get("resourceStatus", ""),
        query.get("category", ""),
        int(query.get("limit", "100")),
        int(query.get("offset", "0")),
    )
    return _json(documents)


def retrieve_resource(database: Database, resource_id: str) -> dict[str, Any] | None:
    with database.transaction(write=False) as cursor:
        cursor.execute(database.sql(f"SELECT {_SELECT_COLUMNS} FROM resource WHERE id = ?"), (resource_id,))
        row = cursor.fetchone()
    return _document(database, row) if row is not None else None


async def sql_retrieve(request: Request) -> Response:
    document = await run_in_threadpool(retrieve_resource, _db(request), request.path_params["id"])
    return _json(document) if document is not None else _json({"code": "NOT_FOUND"}, 404)


# ----------------------------------------------------------------------------------------------- sql_take


def prepare_take_table(connection: Any, rows: int, *, postgres: bool) -> None:
    """(Re)create ``baseline_take`` with ``rows`` free rows, on a DB-API or SQLAlchemy connection."""
    execute: Callable[..., Any] = getattr(connection, "exec_driver_sql", None) or connection.execute
    execute(f"DROP TABLE IF EXISTS {TAKE_TABLE}")
    execute(f"CREATE TABLE {TAKE_TABLE} (id INTEGER PRIMARY KEY, taken_at VARCHAR(40))")
    execute(
        f"INSERT INTO {TAKE_TABLE} (id) SELECT g FROM generate_series(1, {int(rows)}) AS g"
        if postgres
        else f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {int(rows)})"
        f" INSERT INTO {TAKE_TABLE} (id) SELECT n FROM g"
    )
    execute(f"CREATE INDEX ix_{TAKE_TABLE}_free ON {TAKE_TABLE} (id) WHERE taken_at IS NULL")


def take_one(database: Database) -> int | None:
    lock = " FOR UPDATE SKIP LOCKED" if database.postgres else ""  # SQLite: BEGIN IMMEDIATE serialises writers
    with database.transaction(write=True) as cursor:
        cursor.execute(
            database.sql(
                f"UPDATE {TAKE_TABLE} SET taken_at = ? WHERE id = (SELECT id FROM {TAKE_TABLE}"
                f" WHERE taken_at IS NULL ORDER BY id{lock} LIMIT 1) RETURNING id"
            ),
            (_now().isoformat(),),
        )
        row = cursor.fetchone()
    return int(row[0]) if row is not None else None


async def sql_take(request: Request) -> Response:
    taken = await run_in_threadpool(take_one, _db(request))
    return _json({"id": taken}, 201) if taken is not None else _json({"code": "NONE_LEFT"}, 409)


# ---------------------------------------------------------------------------------------------- the app


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    url = os.environ.get(DATABASE_URL_VARIABLE)
    app.state.database = Database(url) if url else None
    try:
        yield
    finally:
        if app.state.database is not None:
            app.state.database.close()


app = Starlette(
    routes=[
        Route("/json", read, methods=["GET"]),
        Route("/json", create, methods=["POST"]),
        Route("/sql/resource", sql_create, methods=["POST"]),
        Route("/sql/resource", sql_list, methods=["GET"]),
        Route("/sql/resource/{id}", sql_retrieve, methods=["GET"]),
        Route("/sql/take", sql_take, methods=["POST"]),
    ],
    lifespan=lifespan,
)

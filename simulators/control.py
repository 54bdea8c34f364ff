"""The fleet's control API: a small HTTP JSON API on 127.0.0.1 for tests and people.

Starlette routes served by uvicorn on the fleet's own event loop (both were already dependencies of
the server; no new package). uvicorn's ``serve()`` would take over SIGINT/SIGTERM, so the fleet
drives its ``startup``/``shutdown`` itself and keeps the signals for the clean fleet shutdown.

Routes (all JSON; errors are ``{"error": CODE, "message": TEXT}``):

- ``GET /devices`` and ``GET /devices/{name}``: device summaries (no credentials: those are only in
  the 0600 manifest).
- ``GET /devices/{name}/datastores/{running|candidate|startup}``: the datastore as RFC 7951 JSON.
- ``PUT /devices/{name}/datastores/running``: replace running out of band, as an engineer on the
  device CLI would (no NETCONF session, no lock); YANG-validated, 422 with the validation error.
- ``GET /devices/{name}/faults``, ``POST`` one ``{"kind": ..., "params": {...}}`` (or the
  parameters inline, as in the faults file),
  ``DELETE /devices/{name}/faults`` (all) and ``DELETE /devices/{name}/faults/{kind}``.
- ``POST /devices/{name}/reboot`` (optional body ``{"down_ms": D}``): sessions drop, running reverts
  to startup, and for D ms the device refuses NETCONF connections and drops SNMP requests.
- ``PATCH /devices/{name}`` ``{"commit_latency_ms": L}``: this device's commit latency from now on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.device import ValidationFailed
from simulators.faults import Fault, FaultKind
from simulators.faults_file import FaultsFileError, validate_params

if TYPE_CHECKING:
    from simulators.fleet import Fleet, RunningDevice

logger = logging.getLogger(__name__)

DATASTORES = ("running", "candidate", "startup")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _error_response(error: ApiError) -> JSONResponse:
    return JSONResponse({"error": error.code, "message": error.message}, status_code=error.status)


def device_summary(fleet: Fleet, running: RunningDevice) -> dict[str, Any]:
    profile = running.profile
    return {
        "name": running.name,
        "profile": profile.name,
        "host": fleet.config.host,
        "netconf_port": running.netconf.port if running.netconf else None,
        "snmp_port": running.snmp.port if running.snmp else None,
        "datastores": list(running.device.datastore_names()),
        "faults": running.device.faults.to_json(),
        "commit_latency_ms": running.device.commit_latency_ms,
        "booting": running.device.is_booting(),
        "reboots": running.device.reboots,
        "ssh_host_key_fingerprint": running.manifest_entry(fleet.config.host).ssh_host_key_fingerprint,
    }


def build_app(fleet: Fleet) -> Starlette:
    """The Starlette application; ``fleet`` is the running fleet it reads and changes."""

    def lookup(request: Request) -> RunningDevice:
        name: str = request.path_params["name"]
        running = fleet.devices.get(name)
        if running is None:
            raise ApiError(404, "DEVICE_NOT_FOUND", f"no device named {name!r}")
        return running

    async def read_json(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(400, "MALFORMED_JSON", f"the body is not JSON: {error}") from error

    def datastore_name(request: Request, running: RunningDevice) -> str:
        datastore: str = request.path_params["datastore"]
        if datastore not in DATASTORES or datastore not in running.device.datastore_names():
            raise ApiError(
                404, "DATASTORE_NOT_FOUND", f"{running.name} ({running.profile.name}) has no {datastore} datastore"
            )
        return datastore

    async def list_devices(request: Request) -> Response:
        return JSONResponse([device_summary(fleet, r) for r in fleet.devices.values()])

    async def get_device(request: Request) -> Response:
        return JSONResponse(device_summary(fleet, lookup(request)))

    async def get_datastore(request: Request) -> Response:
        running = lookup(request)
        datastore = datastore_name(request, running)
        return JSONResponse(running.device.get(datastore))

    async def put_running(request: Request) -> Response:
        running = lookup(request)
        if request.path_params["datastore"] != "running":
            raise ApiError(405, "METHOD_NOT_ALLOWED", "only running can be changed out of band")
        document = await read_json(request)
        if not isinstance(document, dict):
            raise ApiError(400, "MALFORMED_JSON", "running is a JSON object (RFC 7951)")
        try:
            running.device.set_running_out_of_band(document, origin="control-api")
        except ValidationFailed as error:
            return JSONResponse(
                {
                    "error": "VALIDATION_FAILED",
                    "message": error.error_message,
                    "error_tag": error.error_tag,
                    "error_path": error.error_path,
                    "error_app_tag": error.error_app_tag,
                },
                status_code=422,
            )
        return JSONResponse(running.device.get("running"))

    async def list_faults(request: Request) -> Response:
        return JSONResponse(lookup(request).device.faults.to_json())

    async def add_fault(request: Request) -> Response:
        running = lookup(request)
        document = await read_json(request)
        if not isinstance(document, dict):
            raise ApiError(400, "MALFORMED_JSON", 'a fault is {"kind": ..., "params": {...}}')
        try:
            kind = FaultKind(str(document.get("kind")))
        except ValueError:
            known = ", ".join(k.value for k in FaultKind)
            raise ApiError(422, "UNKNOWN_FAULT_KIND", f"kind must be one of {known}") from None
        params = document.get("params") or {}
        if not isinstance(params, dict):
            raise ApiError(422, "INVALID_FAULT", "params must be an object")
        # Parameters may also sit next to "kind", as in the faults file.
        params = {**params, **{k: v for k, v in document.items() if k not in ("kind", "params")}}
        try:
            validate_params(params, kind=kind)
        except FaultsFileError as error:
            raise ApiError(422, "INVALID_FAULT", str(error)) from error
        fault = Fault(kind, params)
        fleet.set_fault(running.name, fault)
        logger.info("%s: fault %s set %s", running.name, kind, params)
        return JSONResponse(fault.to_json(), status_code=201)

    async def clear_faults(request: Request) -> Response:
        running = lookup(request)
        kind_name = request.path_params.get("kind")
        kind: FaultKind | None = None
        if kind_name is not None:
            try:
                kind = FaultKind(kind_name)
            except ValueError:
                raise ApiError(404, "UNKNOWN_FAULT_KIND", f"no fault kind {kind_name!r}") from None
        fleet.clear_faults(running.name, kind)
        return Response(status_code=204)

    async def patch_device(request: Request) -> Response:
        running = lookup(request)
        document = await read_json(request)
        if not isinstance(document, dict) or set(document) != {"commit_latency_ms"}:
            raise ApiError(422, "INVALID_CHANGE", 'only {"commit_latency_ms": L} can be changed')
        latency = document["commit_latency_ms"]
        if isinstance(latency, bool) or not isinstance(latency, int) or latency < 0:
            raise ApiError(422, "INVALID_CHANGE", f"commit_latency_ms must be an integer >= 0, not {latency!r}")
        running.device.commit_latency_ms = latency
        logger.info("%s: commit latency %d ms", running.name, latency)
        return JSONResponse(device_summary(fleet, running))

    async def reboot(request: Request) -> Response:
        running = lookup(request)
        body = await request.body()
        document = await read_json(request) if body.strip() else {}
        down_ms = document.get("down_ms", 0) if isinstance(document, dict) else None
        if isinstance(down_ms, bool) or not isinstance(down_ms, int | float) or down_ms < 0:
            raise ApiError(422, "INVALID_CHANGE", 'the body is empty or {"down_ms": D} with D >= 0')
        await fleet.reboot(running.name, down_ms=down_ms)
        return JSONResponse(device_summary(fleet, running))

    routes = [
        Route("/devices", list_devices, methods=["GET"]),
        Route("/devices/{name}", get_device, methods=["GET"]),
        Route("/devices/{name}", patch_device, methods=["PATCH"]),
        Route("/devices/{name}/datastores/{datastore}", get_datastore, methods=["GET"]),
        Route("/devices/{name}/datastores/{datastore}", put_running, methods=["PUT"]),
        Route("/devices/{name}/faults", list_faults, methods=["GET"]),
        Route("/devices/{name}/faults", add_fault, methods=["POST"]),
        Route("/devices/{name}/faults", clear_faults, methods=["DELETE"]),
        Route("/devices/{name}/faults/{kind}", clear_faults, methods=["DELETE"]),
        Route("/devices/{name}/reboot", reboot, methods=["POST"]),
    ]

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error_response(exc)

    return Starlette(routes=routes, exception_handlers={ApiError: api_error})


class _ServerWithoutSignals(uvicorn.Server):
    """uvicorn.Server that leaves SIGINT/SIGTERM alone: the fleet owns them for its clean shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class ControlServer:
    """uvicorn on a socket we bind ourselves, so the ephemeral port is known before serving."""

    def __init__(self, fleet: Fleet) -> None:
        self._fleet = fleet
        self._server: _ServerWithoutSignals | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
        config = uvicorn.Config(
            build_app(self._fleet), lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
        self._server = _ServerWithoutSignals(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        # The socket already listens (the kernel queues early clients); wait only so that a failure
        # to serve surfaces here rather than after the manifest announced the URL.
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("control API stopped during startup")
            await asyncio.sleep(0.005)
        bound_host, bound_port = sock.getsockname()[:2]
        return f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = None

"""``auth.overhead`` (issue 15): what authentication adds to ``resource.retrieve.p95``.

How it runs (``make bench BENCH=auth``):

1. A fresh migrated database (``bench.resource.fresh_database``) with 200 resources created through HTTP.
2. Two API processes on it, served as ``provisio serve`` serves them: one with authentication on, with a
   JWKS file of a key generated for the run (issuer and audience set), one with ``PROVISIO_AUTH=off``.
3. GET /resource/{id} from one sequential client, 1,000 ids drawn (seeded), in 5 interleaved rounds of
   200 per mode (each round starting with another mode), so drift on a shared machine hits every mode
   alike: with an API token (``Authorization: Token``), with a JWT (``Authorization: Bearer``, RS256), and
   without a credential against the process with authentication off.

Records: ``auth.resource.retrieve.p95.token`` and ``.jwt`` (ms) against ``auth.resource.retrieve.p95.off``
(ratio baseline/value: 1.0 = no cost), and ``auth.overhead.token`` / ``.jwt``: the difference of the p95s
in ms (aim: < 0.3 ms, the verified-token cache rather than a KDF per request). The p50s are recorded too,
and the server's CPU milliseconds per request in each mode (``auth.resource.retrieve.cpu.*``,
``auth.overhead.cpu.*``: /proc schedstat of the served process), which other work on a shared machine moves
far less than a p95.
"""

from __future__ import annotations

import json
import logging
import random
import tempfile
import time
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import RSAKey

from bench.common import CREDENTIAL, CpuMeter, HttpClient, Record, latencies, served_pid, summary_ms, uvicorn_process
from bench.resource import BASE, fresh_database

logger = logging.getLogger(__name__)

RESOURCES, REQUESTS, ROUNDS, SEED = 200, 1_000, 5, 15
ISSUER, AUDIENCE = "https://idp.bench.example", "provisio-bench"


def _create(port: int, count: int) -> list[str]:
    client = HttpClient(port)
    ids = []
    try:
        for index in range(count):
            response = client.request("POST", BASE, {"name": f"auth-bench-{index}", "category": "router"})
            if response.status != 201:
                raise RuntimeError(f"POST {BASE} -> {response.status}: {response.body[:300]!r}")
            ids.append(str(response.json()["id"]))
    finally:
        client.close()
    return ids


def run(record: Record) -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "bench-1"})
    now = int(time.time())
    token = jwt.encode(
        {"alg": "RS256", "kid": "bench-1"},
        {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "bench-jwt",
            "iat": now,
            "exp": now + 3600,
            "scope": "resourceInventory:read",
        },
        key,
    )
    with tempfile.TemporaryDirectory(prefix="provisio-bench-auth-") as data_dir, fresh_database() as url:
        jwks = Path(data_dir) / "jwks.json"
        jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
        # Alike but for authentication: neither runs the in-process dispatcher (no events to deliver anyway).
        common = {
            "DATABASE_URL": url,
            "PROVISIO_DATA_DIR": data_dir,
            "LOG_LEVEL": "WARNING",
            "PROVISIO_API_DISPATCH": "0",
        }
        on = {**common, "PROVISIO_JWKS": str(jwks), "PROVISIO_JWT_ISSUER": ISSUER, "PROVISIO_JWT_AUDIENCE": AUDIENCE}
        off = {**common, "PROVISIO_AUTH": "off"}
        with (
            uvicorn_process("server.app:create_app", factory=True, env=on, ready_path="/health") as on_port,
            uvicorn_process("server.app:create_app", factory=True, env=off, ready_path="/health") as off_port,
        ):
            ids = _create(on_port, RESOURCES)
            rng = random.Random(SEED)
            paths = [f"{BASE}/{rng.choice(ids)}" for _ in range(REQUESTS)]
            modes = {
                "token": (on_port, dict(CREDENTIAL)),
                "jwt": (on_port, {"Authorization": f"Bearer {token}"}),
                "off": (off_port, {}),
            }
            for port, headers in modes.values():  # warm-up: connection set-up, caches, JWKS
                latencies(port, "GET", paths[:50], headers=headers)
            samples: dict[str, list[float]] = {mode: [] for mode in modes}
            cpu: dict[str, float] = {mode: 0.0 for mode in modes}  # server CPU seconds spent per mode
            per_round = REQUESTS // ROUNDS
            for index in range(ROUNDS):
                chunk = paths[index * per_round : (index + 1) * per_round]
                order = list(modes)[index % len(modes) :] + list(modes)[: index % len(modes)]  # no mode always first
                for mode in order:
                    port, headers = modes[mode]
                    with CpuMeter(served_pid(port)) as meter:
                        samples[mode] += latencies(port, "GET", chunk, headers=headers)
                    cpu[mode] += meter.spent or 0.0
    figures = {mode: summary_ms(values) for mode, values in samples.items()}
    logger.info("retrieve p95: %s", {mode: round(f["p95"], 3) for mode, f in figures.items()})
    for q in ("p50", "p95"):
        record(f"auth.resource.retrieve.{q}.off", figures["off"][q], "ms", higher_is_better=False)
        for mode in ("token", "jwt"):
            record(
                f"auth.resource.retrieve.{q}.{mode}",
                figures[mode][q],
                "ms",
                f"auth.resource.retrieve.{q}.off",
                figures["off"][q],
                higher_is_better=False,
            )
    for mode in ("token", "jwt"):
        record(f"auth.overhead.{mode}", figures[mode]["p95"] - figures["off"]["p95"], "ms", higher_is_better=False)
    if all(cpu.values()):  # CPU per request: the figure a busy shared machine moves least
        per_request = {mode: 1000 * spent / len(samples[mode]) for mode, spent in cpu.items()}
        record("auth.resource.retrieve.cpu.off", per_request["off"], "ms CPU/req", higher_is_better=False)
        for mode in ("token", "jwt"):
            record(
                f"auth.resource.retrieve.cpu.{mode}",
                per_request[mode],
                "ms CPU/req",
                "auth.resource.retrieve.cpu.off",
                per_request["off"],
                higher_is_better=False,
            )
            record(
                f"auth.overhead.cpu.{mode}",
                per_request[mode] - per_request["off"],
                "ms CPU/req",
                higher_is_better=False,
            )

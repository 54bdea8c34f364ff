"""Signed hub deliveries (issue 15, "Signed callbacks"): the header the dispatcher sends and the check a
listener runs (``common.events.signing``), and the README's copy of that check."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from common.events import signing
from common.events.signing import signature_header, signed_headers, verify_signature

README = Path(__file__).resolve().parents[3] / "README.md"
SECRET = "whsec_test"
BODY = b'{"eventId":"e-1"}'
T = 1_764_756_000
# Computed independently: printf '1764756000.{"eventId":"e-1"}' | openssl dgst -sha256 -hmac whsec_test
KNOWN_V1 = "cda49378360bb648549ae72ee57f9bceec06f2b81d5733abf8de73da077b5258"


def test_signature_header_is_t_and_the_hmac_sha256_of_t_dot_body() -> None:
    assert signature_header(SECRET, BODY, T) == f"t={T},v1={KNOWN_V1}"


def test_signed_headers_carry_the_event_id_and_a_signature_made_now() -> None:
    headers = signed_headers(SECRET, BODY, "e-1", now=T + 0.9)
    assert headers == {"X-Event-Id": "e-1", "X-Provisio-Signature": f"t={T},v1={KNOWN_V1}"}


def test_new_secrets_are_prefixed_random_and_fit_their_column() -> None:
    made = {signing.new_secret() for _ in range(50)}
    assert len(made) == 50
    assert all(re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", secret) for secret in made)
    from common.events import EventSubscription

    assert EventSubscription.__table__.c.signing_secret.type.length >= len(next(iter(made)))  # type: ignore[attr-defined]


def _readme_verifier() -> tuple[str, Callable[..., bool]]:
    """The Python block of the README's "Verifying a delivery", and its ``verify_signature``."""
    section = README.read_text(encoding="utf-8").split("**Verifying a delivery.**", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README's 'Verifying a delivery' has no Python block"
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)
    return block.group(1), namespace["verify_signature"]


def test_readme_verifier_is_the_function_the_tests_listener_uses() -> None:
    source, _ = _readme_verifier()
    [readme_function] = [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    ours = ast.parse(textwrap.dedent(inspect.getsource(verify_signature))).body[0]
    assert ast.dump(readme_function) == ast.dump(ours)


VERIFIERS = {"common.events.signing": verify_signature, "README": _readme_verifier()[1]}


@pytest.fixture(params=sorted(VERIFIERS))
def verify(request: pytest.FixtureRequest) -> Callable[..., bool]:
    return VERIFIERS[request.param]


def test_a_genuine_delivery_verifies(verify: Callable[..., bool]) -> None:
    assert verify(SECRET, BODY, signature_header(SECRET, BODY, T), now=T + 299)
    assert verify(SECRET, BODY, f"t={T},v1={KNOWN_V1}", now=T - 299)  # a sender clock a little ahead


@pytest.mark.parametrize(
    ("body", "header", "now"),
    [
        (b'{"eventId":"e-2"}', f"t={T},v1={KNOWN_V1}", T),  # forged body under a real signature
        (BODY, signature_header("whsec_other", BODY, T), T),  # signed with another subscription's secret
        (BODY, f"t={T + 1},v1={KNOWN_V1}", T),  # timestamp moved: the signature no longer covers it
        (BODY, f"t={T},v1={KNOWN_V1}", T + 301),  # stale: a replay after the tolerance window
        (BODY, f"t={T},v1={KNOWN_V1}", T - 301),  # from too far in the future
        (BODY, None, T),  # unsigned
        (BODY, "", T),
        (BODY, f"v1={KNOWN_V1}", T),  # no timestamp
        (BODY, f"t={T}", T),  # no signature
        (BODY, f"t=-{T},v1={KNOWN_V1}", T),
        (BODY, f"t=١٧٦٤٧٥٦٠٠٠,v1={KNOWN_V1}", T),  # non-ASCII digits are not a timestamp
        (BODY, f"t={T},v1={KNOWN_V1[:-1]}é", T),  # non-ASCII signature: refused, not a TypeError
        (BODY, f"t={T},v1={KNOWN_V1.upper()}", T),
    ],
)
def test_a_forged_stale_or_malformed_delivery_is_refused(
    verify: Callable[..., bool], body: bytes, header: str | None, now: int
) -> None:
    assert verify(SECRET, body, header, now=now) is False


def test_any_of_several_v1_signatures_may_match(verify: Callable[..., bool]) -> None:
    assert verify(SECRET, BODY, f"t={T}, v1={'0' * 64}, v1={KNOWN_V1}", now=T)


def test_the_tolerance_is_the_listeners_choice(verify: Callable[..., bool]) -> None:
    header = signature_header(SECRET, BODY, T)
    assert verify(SECRET, BODY, header, tolerance=10, now=T + 10)
    assert not verify(SECRET, BODY, header, tolerance=10, now=T + 11)

"""What authentication answers, as connexion problems that ``server.errors`` turns into TMF Error bodies.

- 401 (no credential, or one that is not valid): ``WWW-Authenticate`` names both schemes (RFC 9110 §11.6.1,
  RFC 6750 §3 for ``Bearer``), so a client knows what to send;
- 403: the credential is valid, and the message names the scope(s) it lacks;
- 429: too many failed attempts from this client address this minute; ``Retry-After`` says when to retry.

The ``code`` attribute is the TMF Error ``code`` (``server.errors.handle_problem`` uses it). No message ever
carries the credential itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from connexion.exceptions import ProblemException

from common.errors import InvalidInput, NotFound

REALM = "provisio"
CHALLENGE = f'Bearer realm="{REALM}", Token realm="{REALM}"'


class AuthenticationFailed(ProblemException):  # type: ignore[misc]  # connexion ships no type information
    code = "INVALID_CREDENTIAL"

    def __init__(self, detail: str, *, error: str = "invalid_token") -> None:
        challenge = f'Bearer realm="{REALM}", error="{error}", Token realm="{REALM}"'
        super().__init__(status=401, title="Unauthorized", detail=detail, headers={"WWW-Authenticate": challenge})


class InsufficientScope(ProblemException):  # type: ignore[misc]  # connexion ships no type information
    code = "INSUFFICIENT_SCOPE"

    def __init__(self, missing: Iterable[str]) -> None:
        names = sorted(missing)
        self.missing = names
        plural = "s" if len(names) > 1 else ""
        detail = f"This operation needs the scope{plural} {', '.join(names)}, which the credential does not have."
        challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{" ".join(names)}"'
        super().__init__(status=403, title="Forbidden", detail=detail, headers={"WWW-Authenticate": challenge})


class TooManyAttempts(ProblemException):  # type: ignore[misc]  # connexion ships no type information
    code = "TOO_MANY_AUTHENTICATION_FAILURES"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            status=429,
            title="Too many requests",
            detail=f"Too many failed authentications from this address; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


class InvalidTokenRequest(InvalidInput):
    code = "INVALID_TOKEN_REQUEST"


class UnknownScope(InvalidInput):
    code = "UNKNOWN_SCOPE"


class UnknownRole(InvalidInput):
    code = "UNKNOWN_ROLE"


class TokenNotFound(NotFound):
    code = "TOKEN_NOT_FOUND"

"""Driver exceptions: subclasses of the shared ``Upstream`` categories (a device failed or did not answer).

Messages name the device and the operation, never a credential. ``<rpc-error>`` contents travel as
:class:`~oss.activation.drivers.base.RpcError` values in ``rpc_errors`` (and as dicts in ``details``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from common.errors import Upstream, UpstreamTimeout

if TYPE_CHECKING:
    from oss.activation.drivers.base import RpcError


class DriverError(Upstream):
    """A device operation failed. ``rpc_errors`` holds the device's own ``<rpc-error>`` elements."""

    code = "DEVICE_ERROR"
    reason = "Device operation failed"

    def __init__(
        self,
        device: str,
        operation: str,
        message: str,
        *,
        rpc_errors: Sequence[RpcError] = (),
        details: dict[str, Any] | None = None,
    ) -> None:
        self.device = device
        self.operation = operation
        self.rpc_errors: tuple[RpcError, ...] = tuple(rpc_errors)
        merged = {"device": device, "operation": operation, **(details or {})}
        if self.rpc_errors:
            merged["rpc_errors"] = [error.as_dict() for error in self.rpc_errors]
        super().__init__(f"{device}: {operation}: {message}", details=merged)

    @property
    def error_tags(self) -> tuple[str, ...]:
        return tuple(error.error_tag for error in self.rpc_errors)


class DeviceUnreachable(DriverError):
    """TCP connect refused/unroutable, or the transport broke."""

    code = "DEVICE_UNREACHABLE"


class AuthenticationFailed(DriverError):
    code = "DEVICE_AUTH_FAILED"


class HostKeyMismatch(DriverError):
    """The SSH host key is not the one we know for this device: never connect (possible MITM)."""

    code = "DEVICE_HOST_KEY_MISMATCH"


class DeviceTimeout(DriverError, UpstreamTimeout):
    """No answer within the call's timeout. For an SNMP SET this is reported as outcome unknown instead."""

    code = "DEVICE_TIMEOUT"
    reason = "Device timeout"


class SessionClosed(DriverError):
    """The session is not open (never opened, closed, or dropped by the device)."""

    code = "DEVICE_SESSION_CLOSED"


class OutcomeUnknown(DriverError):
    """A request that changes the device (commit, confirm, cancel-commit, edit-config of running) got no
    reply: the session dropped or the timeout passed after it was sent. The device may or may not have
    applied it, so the caller reads back (``verify``) before it compensates; never success, never failure.
    ``cause`` is ``"timeout"`` or ``"session-closed"``."""

    code = "DEVICE_OUTCOME_UNKNOWN"
    reason = "Device outcome unknown"

    def __init__(self, device: str, operation: str, message: str, *, cause: str) -> None:
        super().__init__(device, operation, message, details={"cause": cause})
        self.cause = cause


class RpcFailed(DriverError):
    """The device answered ``<rpc-error>`` (RFC 6241 §4.3)."""

    code = "DEVICE_RPC_ERROR"


class LockDenied(RpcFailed):
    """``lock-denied`` until the bounded wait ran out (RFC 6241 §7.5); ``holder`` is the session-id."""

    code = "DEVICE_LOCK_DENIED"

    def __init__(
        self,
        device: str,
        operation: str,
        message: str,
        *,
        rpc_errors: Sequence[RpcError] = (),
        holder: str | None = None,
    ) -> None:
        super().__init__(device, operation, message, rpc_errors=rpc_errors, details={"holder": holder})
        self.holder = holder


class CapabilityMissing(DriverError):
    """The device does not advertise what the operation needs; choose another path."""

    code = "DEVICE_CAPABILITY_MISSING"

    def __init__(self, device: str, operation: str, capability: str) -> None:
        super().__init__(device, operation, f"device lacks {capability}", details={"capability": capability})
        self.capability = capability


class SnmpError(DriverError):
    """An SNMP response with a non-zero error-status (RFC 3416 §3) on a GET/WALK."""

    code = "DEVICE_SNMP_ERROR"

    def __init__(self, device: str, operation: str, error_status: str, error_index: int | None = None) -> None:
        super().__init__(
            device,
            operation,
            f"{error_status} at varbind {error_index}",
            details={"error_status": error_status, "error_index": error_index},
        )
        self.error_status = error_status
        self.error_index = error_index

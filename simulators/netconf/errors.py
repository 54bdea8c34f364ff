"""``<rpc-error>`` as a NETCONF server sends it (RFC 6241 §4.3 and Appendix A)."""

from __future__ import annotations

from common.yang.errors import NC, NC_NS, RpcError
from common.yang.validate import ValidationFailed

__all__ = ["NC", "NC_NS", "RpcError", "RpcErrors"]


class RpcErrors(Exception):
    """Several errors in one reply (edit-config with continue-on-error)."""

    def __init__(self, errors: list[RpcError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def from_validation(exc: ValidationFailed) -> RpcError:
    return RpcError(
        tag=exc.error_tag,
        message=exc.error_message,
        type=exc.error_type,
        app_tag=exc.error_app_tag,
        path=exc.error_path,
    )


# Shorthands for the errors the operations raise most.


def lock_denied(holder: int, message: str = "lock is held by another session") -> RpcError:
    """RFC 6241 §7.5: the error-info names the holder; 0 means a non-NETCONF entity."""
    return RpcError("lock-denied", message, type="protocol", info=[("session-id", str(holder))])


def in_use(holder: int, datastore: str) -> RpcError:
    return RpcError(
        "in-use", f"the {datastore} datastore is locked by session {holder}", info=[("session-id", str(holder))]
    )


def operation_failed(message: str, type_: str = "application") -> RpcError:
    return RpcError("operation-failed", message, type=type_)


def not_supported(message: str) -> RpcError:
    return RpcError("operation-not-supported", message, type="protocol")


def missing_element(name: str, message: str = "") -> RpcError:
    return RpcError("missing-element", message or f"{name} is required", type="protocol", info=[("bad-element", name)])


def bad_element(name: str, message: str, type_: str = "protocol") -> RpcError:
    return RpcError("bad-element", message, type=type_, info=[("bad-element", name)])


def invalid_value(message: str, path: str | None = None) -> RpcError:
    return RpcError("invalid-value", message, path=path)

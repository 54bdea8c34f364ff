"""``<rpc-error>`` as a NETCONF server sends it (RFC 6241 §4.3 and Appendix A)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from simulators.yang.model import modules
from simulators.yang.validate import ValidationFailed

NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
NC = f"{{{NC_NS}}}"


@dataclass(eq=False)
class RpcError(Exception):
    """One ``<rpc-error>``. ``info`` holds error-info children as (local name, text) pairs."""

    tag: str
    message: str = ""
    type: str = "application"
    severity: str = "error"
    app_tag: str | None = None
    path: str | None = None
    info: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(f"{self.tag}: {self.message}")

    def to_xml(self, parent: etree._Element) -> etree._Element:
        """Append this error under ``parent`` (an ``<rpc-reply>``) in the order RFC 6241 §4.3 lists."""
        error = etree.SubElement(parent, NC + "rpc-error")
        etree.SubElement(error, NC + "error-type").text = self.type
        etree.SubElement(error, NC + "error-tag").text = self.tag
        etree.SubElement(error, NC + "error-severity").text = self.severity
        if self.app_tag:
            etree.SubElement(error, NC + "error-app-tag").text = self.app_tag
        if self.path:
            path = etree.SubElement(error, NC + "error-path", nsmap=_prefixes_in(self.path))
            path.text = self.path
        if self.message:
            message = etree.SubElement(error, NC + "error-message")
            message.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
            message.text = self.message
        if self.info:
            info = etree.SubElement(error, NC + "error-info")
            for name, text in self.info:
                etree.SubElement(info, NC + name).text = text
        return error


class RpcErrors(Exception):
    """Several errors in one reply (edit-config with continue-on-error)."""

    def __init__(self, errors: list[RpcError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _prefixes_in(xpath: str) -> dict[str, str]:
    return {m.prefix: m.namespace for m in modules() if f"{m.prefix}:" in xpath}


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

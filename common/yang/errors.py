"""``<rpc-error>`` as a NETCONF server sends it (RFC 6241 §4.3 and Appendix A).

Shared by the simulators (which send it) and the offline edit engine of the activation dry-run (which
reports what the device would answer).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from common.yang.model import modules

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


def _prefixes_in(xpath: str) -> dict[str, str]:
    return {m.prefix: m.namespace for m in modules() if f"{m.prefix}:" in xpath}

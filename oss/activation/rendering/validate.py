"""The rendered NETCONF payload against the YANG modules the devices serve.

No second validator: the payload is applied, as ``<edit-config>`` merge, to an empty datastore by the
very engine the simulators run (:mod:`common.yang.edit`), and the result is validated by the simulators'
own YANG validation (:mod:`common.yang.validate`: yangson over the real ietf-interfaces, ietf-ip,
iana-if-type and provisio-vlan modules). A payload therefore has to be valid on its own: every leafref
it makes (a VLAN member) points at something it also carries.
"""

from __future__ import annotations

from lxml import etree

from common.yang.edit import apply_edit
from common.yang.validate import ValidationFailed, validate_config
from oss.activation.rendering.errors import PayloadInvalid


def validate_netconf_payload(config: etree._Element) -> None:
    """Raise :class:`PayloadInvalid` (with the rpc-error fields a device would send) unless ``config``
    (a ``<config>`` element) is valid YANG data for the served modules."""
    result = apply_edit({}, config, "merge", "rollback-on-error")
    if result.errors:
        first = result.errors[0]
        raise PayloadInvalid(
            f"rendered payload refused: {first.tag}: {first.message}",
            details={"error_tag": first.tag, "error_path": first.path, "error_message": first.message},
        )
    try:
        validate_config(result.data)
    except ValidationFailed as exc:
        raise PayloadInvalid(
            f"rendered payload is not valid YANG data: {exc.error_tag}: {exc.error_message}",
            details={"error_tag": exc.error_tag, "error_path": exc.error_path, "error_message": exc.error_message},
        ) from None

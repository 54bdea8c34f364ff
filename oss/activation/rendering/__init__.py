"""Config rendering for activation: a pure function per platform and service type (Jinja2 templates).

See ``render.py`` and the README section "Activation: rendering and dry-run".
"""

from oss.activation.rendering.errors import PayloadInvalid, RenderError, UnsupportedService
from oss.activation.rendering.inputs import DeviceInput, PortInput, ServiceInput, ServicePort, VlanInput
from oss.activation.rendering.render import (
    NetconfPayload,
    Payload,
    SnmpPayload,
    SnmpSet,
    platforms,
    render,
)
from oss.activation.rendering.validate import validate_netconf_payload

__all__ = [
    "DeviceInput",
    "NetconfPayload",
    "Payload",
    "PayloadInvalid",
    "PortInput",
    "RenderError",
    "ServiceInput",
    "ServicePort",
    "SnmpPayload",
    "SnmpSet",
    "UnsupportedService",
    "VlanInput",
    "platforms",
    "render",
    "validate_netconf_payload",
]

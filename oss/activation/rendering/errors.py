"""Rendering errors: the service cannot be rendered for this device (client input, 422)."""

from __future__ import annotations

from typing import Any

from common.errors import Unprocessable


class RenderError(Unprocessable):
    """The inputs do not make a configuration: unknown platform or service type, a rule of the
    template refused them (``fail(...)`` in the template), or a missing input."""

    code = "RENDER_FAILED"
    reason = "Configuration cannot be rendered"


class UnsupportedService(RenderError):
    code = "SERVICE_TYPE_NOT_SUPPORTED"
    reason = "Service type not supported on this platform"


class PayloadInvalid(RenderError):
    """The rendered NETCONF payload does not validate against the YANG modules the devices serve;
    ``details`` carries the rpc-error fields the device would answer (error-tag, error-path)."""

    code = "PAYLOAD_INVALID"
    reason = "Rendered configuration is not valid YANG data"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)

"""The @types of port requests (``oss.number_pool.porting.PORT_REQUEST_TYPES``): registered with the
attributes of their served create schemas, each direction accepting only its own."""

from __future__ import annotations

import pytest

from common.errors import InvalidInput
from oss.number_pool import porting


def test_both_types_are_registered_with_their_create_schemas_attributes() -> None:
    registry = porting.PORT_REQUEST_TYPES
    assert registry.names() == ("PortInRequest", "PortOutRequest")
    port_in = registry.attributes_of(registry.get("PortInRequest"))
    port_out = registry.attributes_of(registry.get("PortOutRequest"))
    assert {"donorOperator", "authorisationReference", "poolId", "number"} <= port_in
    assert "recipientOperator" in port_out and "donorOperator" not in port_out


@pytest.mark.parametrize(
    ("direction", "document", "message"),
    [
        (porting.IN, {"@type": "PortOutRequest"}, "is a PortInRequest, not a PortOutRequest"),
        (porting.OUT, {"@type": "Bogus"}, "Unknown @type 'Bogus'"),
        (porting.OUT, {"donorOperator": "x"}, "Unknown attribute 'donorOperator'"),
    ],
)
def test_a_document_of_another_type_or_attribute_is_a_400(
    direction: str, document: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        porting._check_type(direction, document)

"""IP address management: VRFs, prefixes with a computed hierarchy, pools with a reserved head and tail,
addresses (IPv4 and IPv6), next-available addresses and prefixes from free space kept as aligned CIDR
blocks (a buddy allocator), and the reservation provider for ``IpAddressReservationItem`` and
``IpPrefixReservationItem``.

Facade for other contexts:

- ``IP_PROVIDER``: the ``oss.reservation.ReservationProvider`` of IP space, registered here with
  ``oss.reservation.register_provider``;
- ``addresses_of_interface(uow, interface_id)``: the addresses assigned to an interface (the physical
  inventory shows them by asking here; the interface id is any string until that inventory lands);
- ``ADDRESS_TYPE`` / ``PREFIX_TYPE``: the TMF639 ``@type`` of addresses and prefixes (``IpAddress``,
  ``IpPrefix``) and of VLANs (``Vlan``), owned by this context: TMF639 writes to them answer 409 ``OWNED_BY_IP_POOL``.
"""

from oss.ip_pool import vlan as vlan  # registers the VLAN events
from oss.ip_pool.mapping import ADDRESS_TYPE, BASE_PATH, PREFIX_TYPE, VLAN_TYPE
from oss.ip_pool.provider import ADDRESS_ITEM, IP_PROVIDER, PREFIX_ITEM, IpProvider
from oss.ip_pool.service import AddressData, addresses_of_interface
from oss.reservation import register_provider
from oss.resource_inventory import RESOURCE_TYPES, Ownership

# TMF639 shows IP space, this context changes it.
RESOURCE_TYPES.register(
    ADDRESS_TYPE,
    base_type="LogicalResource",
    owner=Ownership("ip_pool", "OWNED_BY_IP_POOL", f"{BASE_PATH}/ipAddress"),
)
RESOURCE_TYPES.register(
    PREFIX_TYPE,
    base_type="LogicalResource",
    owner=Ownership("ip_pool", "OWNED_BY_IP_POOL", f"{BASE_PATH}/prefix"),
)
RESOURCE_TYPES.register(
    VLAN_TYPE,
    base_type="LogicalResource",
    owner=Ownership("ip_pool", "OWNED_BY_IP_POOL", f"{BASE_PATH}/vlan"),
)
register_provider(IP_PROVIDER)

__all__ = [
    "ADDRESS_ITEM",
    "ADDRESS_TYPE",
    "IP_PROVIDER",
    "PREFIX_ITEM",
    "PREFIX_TYPE",
    "VLAN_TYPE",
    "AddressData",
    "IpProvider",
    "addresses_of_interface",
]

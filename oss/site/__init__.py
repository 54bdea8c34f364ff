"""Physical inventory: TMF674 geographic sites (the point through geoalchemy2, radius search on every backend),
racks, device types with port templates, devices on rack unit spans, ports, cables and the trace of a cable path.

Facade for other contexts:

- ``retrieve_site(uow, site_id)`` / ``SiteData``: a site by id (other contexts refer to sites by id string);
- ``PHYSICAL_TYPES``: the TMF639 ``@type`` values of racks, devices, ports and cables (``PhysicalResource``
  subclasses owned by this context: TMF639 writes to one answer 409 ``OWNED_BY_PHYSICAL_INVENTORY``);
- ``DCIM_API`` / ``DCIM_EVENT_TYPES``: the DCIM API's hub name and events (Rack/DeviceType/Device/Cable create,
  Device/Port attribute change, CableDeleteEvent);
- ``PORT_PROVIDER``: the ``oss.reservation.ReservationProvider`` of ports (TMF685 items of ``@type``
  ``PortReservationItem``; a pool is a device), registered here with ``oss.reservation.register_provider``;
- ``SITE_API`` / ``SITE_EVENT_TYPES``: the hub API name and the events it publishes
  (``GeographicSiteCreateEvent``, ``GeographicSiteAttributeValueChangeEvent``,
  ``GeographicSiteStatusChangeEvent``, ``GeographicSiteDeleteEvent``).
"""

from oss.reservation import register_provider
from oss.resource_inventory import RESOURCE_TYPES, Ownership
from oss.site.domain import haversine_km
from oss.site.mapping import DCIM_BASE_PATH
from oss.site.mapping import RESOURCE_TYPES as PHYSICAL_TYPES
from oss.site.provider import ITEM_TYPE, PORT_PROVIDER, PortProvider
from oss.site.service import DCIM_API, DCIM_EVENT_TYPES, SITE_API, SITE_EVENT_TYPES, SiteData, retrieve_site

# TMF639 shows racks, devices, ports and cables; this context changes them.
for _type, _collection in zip(PHYSICAL_TYPES, ("rack", "device", "port", "cable"), strict=True):
    RESOURCE_TYPES.register(
        _type,
        base_type="PhysicalResource",
        owner=Ownership("site", "OWNED_BY_PHYSICAL_INVENTORY", f"{DCIM_BASE_PATH}/{_collection}"),
    )
register_provider(PORT_PROVIDER)

__all__ = [
    "DCIM_API",
    "DCIM_EVENT_TYPES",
    "ITEM_TYPE",
    "PHYSICAL_TYPES",
    "PORT_PROVIDER",
    "SITE_API",
    "SITE_EVENT_TYPES",
    "PortProvider",
    "SiteData",
    "haversine_km",
    "retrieve_site",
]

"""CPE (customer premises equipment): models, units with serial and MAC stocked at warehouse sites, their
lifecycle from stock to install to RMA, stock levels with low-stock events, and the reservation provider
for ``CpeReservationItem`` (a TMF685 hold at quote time takes a count of a model at a warehouse).

Warehouse sites, customer sites and ports are ``oss/site``'s, referred to by id (no import of it).

Facade for other contexts:

- ``CPE_PROVIDER``: the ``oss.reservation.ReservationProvider`` of CPE stock, registered here with
  ``oss.reservation.register_provider`` for reservation items of ``@type`` ``CpeReservationItem``;
- ``RESOURCE_TYPE``: the TMF639 ``@type`` of units (``Cpe``, a ``PhysicalResource``), owned by this
  context: TMF639 writes to one answer 409 ``OWNED_BY_CPE``;
- ``STATES`` / ``TRANSITIONS`` / ``TMF639_STATUS``: the lifecycle and its TMF639 mapping.
"""

from oss.cpe.domain import STATES, TMF639_STATUS, TRANSITIONS
from oss.cpe.mapping import BASE_PATH, BASE_TYPE, RESOURCE_TYPE
from oss.cpe.provider import CPE_PROVIDER, ITEM_TYPE, CpeProvider
from oss.reservation import register_provider
from oss.resource_inventory import RESOURCE_TYPES, Ownership

RESOURCE_TYPES.register(
    RESOURCE_TYPE, base_type=BASE_TYPE, owner=Ownership("cpe", "OWNED_BY_CPE", f"{BASE_PATH}/cpeUnit")
)
register_provider(CPE_PROVIDER)

__all__ = [
    "CPE_PROVIDER",
    "ITEM_TYPE",
    "RESOURCE_TYPE",
    "STATES",
    "TMF639_STATUS",
    "TRANSITIONS",
    "CpeProvider",
]

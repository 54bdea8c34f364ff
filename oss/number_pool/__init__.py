"""Number pool (E.164 numbers): pools, blocks stored as ranges, the number lifecycle, categories, search,
aging, and the reservation provider for ``TelephoneNumberReservationItem``.

Facade for other contexts:

- ``NUMBER_PROVIDER``: the ``oss.reservation.ReservationProvider`` of numbers (check, hold, extend, commit,
  release inside the reservation's transaction);
- ``return_aged_numbers(uow_factory, now)`` / ``expire_holds(uow_factory, now)``: the sweepers' use cases;
- ``RESOURCE_TYPE``: the TMF639 ``@type`` of numbers (``TelephoneNumber``), owned by this context: TMF639
  writes to one answer 409 ``OWNED_BY_NUMBER_POOL``.
"""

from oss.number_pool.domain import STATES, TMF639_STATUS
from oss.number_pool.mapping import RESOURCE_TYPE
from oss.number_pool.provider import ITEM_TYPE, NUMBER_PROVIDER, NumberProvider
from oss.number_pool.service import expire_holds, return_aged_numbers
from oss.reservation import register_provider
from oss.resource_inventory import RESOURCE_TYPES, Ownership

# TMF639 shows numbers, this context changes them.
RESOURCE_TYPES.register(
    RESOURCE_TYPE,
    base_type="LogicalResource",
    owner=Ownership("number_pool", "OWNED_BY_NUMBER_POOL", "/provisio/numberInventory/v1/telephoneNumber"),
)
# TMF685 reservations hold numbers through this provider (TelephoneNumberReservationItem).
register_provider(NUMBER_PROVIDER)

__all__ = [
    "ITEM_TYPE",
    "NUMBER_PROVIDER",
    "RESOURCE_TYPE",
    "STATES",
    "TMF639_STATUS",
    "NumberProvider",
    "expire_holds",
    "return_aged_numbers",
]

"""Number pool (E.164 numbers): pools, blocks stored as ranges, the number lifecycle, categories, search,
aging, and the reservation provider for ``TelephoneNumberReservationItem``.

Facade for other contexts:

- ``NUMBER_PROVIDER``: the ``oss.reservation.ReservationProvider`` of numbers (check, hold, extend, commit,
  release inside the reservation's transaction), registered here with ``oss.reservation.register_provider``
  for reservation items of ``@type`` ``TelephoneNumberReservationItem``;
- ``return_aged_numbers(uow_factory, now)`` / ``expire_holds(uow_factory, now)``: the sweepers' use cases,
  registered here with the durable-step kernel (``common.steps``) as ``number_pool.aging`` (every 5 min)
  and ``number_pool.holds`` (every 30 s);
- ``RESOURCE_TYPE``: the TMF639 ``@type`` of numbers (``TelephoneNumber``), owned by this context: TMF639
  writes to one answer 409 ``OWNED_BY_NUMBER_POOL``.
"""

from datetime import timedelta

from common import steps
from oss.number_pool import porting as porting  # registers the port-date steps (numbers.portIn, ...)
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
register_provider(NUMBER_PROVIDER)

AGING_SWEEPER, AGING_SWEEP_EVERY = "number_pool.aging", timedelta(minutes=5)
HOLD_SWEEPER, HOLD_SWEEP_EVERY = "number_pool.holds", timedelta(seconds=30)
steps.register_sweeper(AGING_SWEEPER, AGING_SWEEP_EVERY, return_aged_numbers)
steps.register_sweeper(HOLD_SWEEPER, HOLD_SWEEP_EVERY, expire_holds)

__all__ = [
    "AGING_SWEEPER",
    "HOLD_SWEEPER",
    "ITEM_TYPE",
    "NUMBER_PROVIDER",
    "RESOURCE_TYPE",
    "STATES",
    "TMF639_STATUS",
    "NumberProvider",
    "expire_holds",
    "return_aged_numbers",
]

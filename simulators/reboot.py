"""The ``reboot`` fault: scripted, seeded reboots run by the fleet on its event loop.

Unlike the other faults, nothing asks "does it fire now?" per request: a reboot happens on its own
time, so each device whose fault set holds a ``reboot`` fault gets one task that sleeps until the
next firing and then calls the fleet's reboot (the same path as ``POST /devices/{name}/reboot``).

- ``after_ms``: one reboot that long after the fault was set; the fault then clears itself.
- ``every_ms``: a reboot every ``every_ms`` (the first one ``after_ms`` after the fault was set when
  both are given), until the fault is cleared or its ``count`` is used up.
- ``probability``: each firing is rolled with the device's seeded generator (``--seed`` and the
  device name), like every other fault; a firing that loses the roll is skipped, not retried.
- ``down_ms``: how long the device then boots (default
  :data:`simulators.faults.DEFAULT_DOWN_MS`): refused NETCONF connections, dropped SNMP requests.

Setting the fault again restarts its clock; clearing it stops the task and ends a boot in progress.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from simulators.faults import DEFAULT_DOWN_MS, FaultKind, FaultSet

logger = logging.getLogger(__name__)

#: ``reboot(device_name, down_ms)``: the fleet's reboot of one device.
RebootAction = Callable[[str, float], Awaitable[None]]


class RebootScheduler:
    """One task per device with an armed ``reboot`` fault."""

    def __init__(self, reboot: RebootAction) -> None:
        self._reboot = reboot
        self._tasks: dict[str, asyncio.Task[None]] = {}
        #: firings per device (whether or not the probability roll let them reboot), for tests and logs
        self.firings: Counter[str] = Counter()

    def arm(self, name: str, faults: FaultSet) -> None:
        """(Re)start the schedule of ``name`` from now; a device without a reboot fault gets none."""
        self.disarm(name)
        fault = faults.peek(FaultKind.REBOOT)
        if fault is None:
            return
        task = asyncio.get_running_loop().create_task(self._run(name, faults, dict(fault.params)))
        self._tasks[name] = task

    def disarm(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def armed(self) -> list[str]:
        return sorted(self._tasks)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, name: str, faults: FaultSet, params: dict[str, Any]) -> None:
        every_ms = params.get("every_ms")
        period_ms: float | None = float(every_ms) if every_ms is not None else None
        delay_ms = float(params.get("after_ms", period_ms or 0))
        down_ms = float(params.get("down_ms", DEFAULT_DOWN_MS))
        try:
            while True:
                await asyncio.sleep(delay_ms / 1000)
                self.firings[name] += 1
                fired = faults.active(FaultKind.REBOOT)  # rolls probability, spends one of count
                if period_ms is None:
                    faults.clear(FaultKind.REBOOT)  # after_ms alone: one firing, then it is done
                if fired is not None:
                    logger.info("%s: reboot (fault)", name)
                    await self._reboot(name, down_ms)
                if period_ms is None or faults.peek(FaultKind.REBOOT) is None:
                    return
                delay_ms = period_ms
        finally:
            if self._tasks.get(name) is asyncio.current_task():
                del self._tasks[name]

"""A stateful property test: random NETCONF operations over one real session against a simple model of
RFC 6241 datastores (running, candidate, startup) restricted to the VLAN table."""

from __future__ import annotations

from typing import Any

import asyncssh
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from ncclient.operations.rpc import RPCError

from simulators.device import Device
from simulators.netconf.server import start_netconf_server
from simulators.profiles import PROFILES
from tests.simulators.netconf.conftest import PASSWORD, USER, VLAN_NS, LoopThread, Sim

NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
VLAN_IDS = st.sampled_from([0, 1, 2, 3, 4, 5, 4095])  # 0 and 4095 are out of range (1..4094)
NAMES = st.text(alphabet="abcxyz", min_size=1, max_size=4)


def _vlans_xml(vlans: dict[int, str], attr: str = "") -> str:
    body = "".join(f"<vlan><id>{i}</id><name>{n}</name></vlan>" for i, n in vlans.items())
    return f'<config><vlans xmlns="{VLAN_NS}" xmlns:nc="{NC}"{attr}>{body}</vlans></config>'


def _read_vlans(m: Any, source: str) -> dict[int, str]:
    data = m.get_config(source).data_ele
    return {
        int(v.findtext(f"{{{VLAN_NS}}}id")): v.findtext(f"{{{VLAN_NS}}}name") for v in data.iter(f"{{{VLAN_NS}}}vlan")
    }


class NetconfModel(RuleBasedStateMachine):
    """The model: three dicts and two flags; the device must agree after every step."""

    sim: Sim

    def __init__(self) -> None:
        super().__init__()
        self.m = self.sim.connect()
        self.running: dict[int, str] = {}
        self.candidate: dict[int, str] = {}
        self.startup: dict[int, str] = {}
        self.dirty = False
        self.locked = False

    def teardown(self) -> None:
        self.m.close_session()
        sim = self.sim
        sim.call(lambda: _reset(sim.device))

    def _expect(self, error_tag: str | None, call: Any) -> None:
        if error_tag is None:
            call()
            return
        with pytest.raises(RPCError) as err:
            call()
        assert err.value.tag == error_tag

    @rule(vlan_id=VLAN_IDS, name=NAMES)
    def merge(self, vlan_id: int, name: str) -> None:
        valid = 1 <= vlan_id <= 4094
        self._expect(
            None if valid else "invalid-value",
            lambda: self.m.edit_config(target="candidate", config=_vlans_xml({vlan_id: name})),
        )
        if valid:
            self.candidate[vlan_id] = name
        self.dirty = True  # stop-on-error: the edit ran, even if it changed nothing

    @rule(vlans=st.dictionaries(st.integers(1, 5), NAMES, max_size=3))
    def replace_table(self, vlans: dict[int, str]) -> None:
        self.m.edit_config(target="candidate", config=_vlans_xml(vlans, ' nc:operation="replace"'))
        self.candidate = dict(vlans)
        self.dirty = True

    @rule(vlan_id=st.integers(1, 5))
    def delete(self, vlan_id: int) -> None:
        cfg = f'<config><vlans xmlns="{VLAN_NS}"><vlan xmlns:nc="{NC}" nc:operation="delete"><id>{vlan_id}</id></vlan></vlans></config>'  # noqa: E501 - XML literal
        exists = vlan_id in self.candidate
        self._expect(None if exists else "data-missing", lambda: self.m.edit_config(target="candidate", config=cfg))
        self.candidate.pop(vlan_id, None)
        self.dirty = True

    @rule()
    def discard(self) -> None:
        self.m.discard_changes()
        self.candidate = dict(self.running)
        self.dirty = False

    @rule()
    def commit(self) -> None:
        self.m.commit()
        self.running = dict(self.candidate)
        self.dirty = False

    @rule()
    def validate(self) -> None:
        self.m.validate("candidate")

    @rule()
    def copy_running_to_startup(self) -> None:
        self.m.copy_config(source="running", target="startup")
        self.startup = dict(self.running)

    @rule()
    def lock(self) -> None:
        granted = not self.locked and not self.dirty  # RFC 6241 §7.5, §8.3.5.1
        self._expect(None if granted else "lock-denied", lambda: self.m.lock("candidate"))
        self.locked = self.locked or granted

    @rule()
    def unlock(self) -> None:
        self._expect(None if self.locked else "operation-failed", lambda: self.m.unlock("candidate"))
        self.locked = False

    @invariant()
    def datastores_match_model(self) -> None:
        assert _read_vlans(self.m, "candidate") == self.candidate
        assert _read_vlans(self.m, "running") == self.running
        assert _read_vlans(self.m, "startup") == self.startup


def _reset(device: Device) -> None:
    device.locks.clear()
    for store in ("running", "candidate", "startup"):
        data = getattr(device, store)
        data.pop("provisio-vlan:vlans", None)
    device.candidate_dirty = False


def test_netconf_operations_agree_with_rfc6241_model(loop_thread: LoopThread, host_key: asyncssh.SSHKey) -> None:
    async def start() -> Sim:
        device = Device("pe-model", PROFILES["pe-router"])
        endpoint = await start_netconf_server(device, host_key=host_key, users={USER: PASSWORD})
        return Sim(device, endpoint, loop_thread)

    sim = loop_thread.run(start())
    NetconfModel.sim = sim
    try:
        run_state_machine_as_test(
            NetconfModel,
            settings=settings(
                max_examples=20,
                stateful_step_count=15,
                derandomize=True,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        loop_thread.run(sim.endpoint.close())

"""RFC 6241 operations over a real SSH session with ncclient."""

from __future__ import annotations

import pytest
from lxml import etree
from ncclient.operations.rpc import RPCError

from tests.simulators.netconf.conftest import IF_NS, IP_NS, VLAN_NS, Sim, vlan_config, vlans_of

NC = "urn:ietf:params:xml:ns:netconf:base:1.0"


def _interface(name: str, body: str = "", operation: str | None = None) -> str:
    op = f' xmlns:nc="{NC}" nc:operation="{operation}"' if operation else ""
    return f'<config><interfaces xmlns="{IF_NS}"><interface{op}><name>{name}</name>{body}</interface></interfaces></config>'  # noqa: E501 - XML literal


def test_get_config_subtree_filter_selects_one_interface(pe: Sim) -> None:
    with pe.connect() as m:
        flt = f'<interfaces xmlns="{IF_NS}"><interface><name>ge-0/0/1</name><enabled/></interface></interfaces>'
        data = m.get_config("running", filter=("subtree", flt)).data_ele
    interfaces = data.findall(f".//{{{IF_NS}}}interface")
    assert len(interfaces) == 1
    assert [etree.QName(c).localname for c in interfaces[0]] == ["name", "enabled"]


def test_get_config_filter_without_match_returns_empty_data(pe: Sim) -> None:
    with pe.connect() as m:
        flt = f'<interfaces xmlns="{IF_NS}"><interface><name>nope</name></interface></interfaces>'
        data = m.get_config("running", filter=("subtree", flt)).data_ele
    assert len(data) == 0


def test_get_returns_state_data_next_to_config(pe: Sim) -> None:
    with pe.connect() as m:
        data = m.get(
            filter=("subtree", f'<interfaces xmlns="{IF_NS}"><interface><name>ge-0/0/0</name></interface></interfaces>')
        ).data_ele
    assert data.findtext(f".//{{{IF_NS}}}oper-status") == "up"
    assert data.findtext(f".//{{{IF_NS}}}if-index") == str(pe.call(lambda: pe.device.if_index("ge-0/0/0")))


def test_edit_config_merge_then_commit_reaches_running(pe: Sim) -> None:
    with pe.connect() as m:
        m.edit_config(target="candidate", config=vlan_config((10, "a"), (20, "b")))
        assert vlans_of(pe.datastore("running")) == {}
        m.commit()
    assert vlans_of(pe.datastore("running")) == {10: "a", 20: "b"}


def test_edit_config_create_existing_answers_data_exists(pe: Sim) -> None:
    with pe.connect() as m:
        m.edit_config(target="candidate", config=vlan_config((10, "a")))
        with pytest.raises(RPCError) as err:
            m.edit_config(target="candidate", config=vlan_config((10, "a"), operation="create"))
    assert err.value.tag == "data-exists"
    assert err.value.path == "/pvlan:vlans/pvlan:vlan[pvlan:id='10']"


def test_edit_config_delete_missing_answers_data_missing_and_remove_does_not(pe: Sim) -> None:
    with pe.connect() as m:
        with pytest.raises(RPCError) as err:
            m.edit_config(target="candidate", config=vlan_config((99, "x"), operation="delete"))
        assert err.value.tag == "data-missing"
        m.edit_config(target="candidate", config=vlan_config((99, "x"), operation="remove"))


def test_edit_config_delete_removes_entry(pe: Sim) -> None:
    with pe.connect() as m:
        m.edit_config(target="candidate", config=vlan_config((10, "a"), (20, "b")))
        m.edit_config(target="candidate", config=vlan_config((10, "a"), operation="delete"))
    assert vlans_of(pe.datastore("candidate")) == {20: "b"}


def test_edit_config_replace_entry_drops_unlisted_leaves(pe: Sim) -> None:
    with pe.connect() as m:
        m.edit_config(target="candidate", config=_interface("ge-0/0/0", "<description>up</description>"))
        m.edit_config(
            target="candidate",
            config=_interface(
                "ge-0/0/0",
                '<type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:ethernetCsmacd</type>',
                "replace",
            ),
        )
    entry = next(
        i for i in pe.datastore("candidate")["ietf-interfaces:interfaces"]["interface"] if i["name"] == "ge-0/0/0"
    )
    assert entry == {"name": "ge-0/0/0", "type": "iana-if-type:ethernetCsmacd"}


def test_edit_config_default_operation_replace_replaces_whole_datastore(pe: Sim) -> None:
    with pe.connect() as m:
        m.edit_config(target="candidate", config=vlan_config((10, "a")), default_operation="replace")
    assert pe.datastore("candidate") == {"provisio-vlan:vlans": {"vlan": [{"id": 10, "name": "a"}]}}


def test_edit_config_default_operation_none_leaves_unmarked_nodes(pe: Sim) -> None:
    with pe.connect() as m:
        m.edit_config(target="candidate", config=vlan_config((10, "a"), (20, "b")))
        cfg = f'<config><vlans xmlns="{VLAN_NS}"><vlan><id>10</id><name>zzz</name></vlan><vlan xmlns:nc="{NC}" nc:operation="delete"><id>20</id></vlan></vlans></config>'  # noqa: E501 - XML literal
        m.edit_config(target="candidate", config=cfg, default_operation="none")
    assert vlans_of(pe.datastore("candidate")) == {10: "a"}


def test_edit_config_bad_value_answers_invalid_value_with_path(pe: Sim) -> None:
    with pe.connect() as m, pytest.raises(RPCError) as err:
        m.edit_config(
            target="candidate",
            config=_interface(
                "ge-0/0/0",
                f'<ipv4 xmlns="{IP_NS}"><address><ip>192.0.2.1</ip><prefix-length>40</prefix-length></address></ipv4>',
            ),
        )
    assert (err.value.tag, err.value.type, err.value.severity) == ("invalid-value", "application", "error")
    assert (
        err.value.path
        == "/if:interfaces/if:interface[if:name='ge-0/0/0']/ip:ipv4/ip:address[ip:ip='192.0.2.1']/ip:prefix-length"
    )


def test_edit_config_unknown_element_names_it_in_error_info(pe: Sim) -> None:
    with pe.connect() as m, pytest.raises(RPCError) as err:
        m.edit_config(target="candidate", config=_interface("ge-0/0/0", "<colour>red</colour>"))
    assert err.value.tag == "unknown-element"
    assert "<bad-element>colour</bad-element>" in err.value.info


def test_edit_config_list_entry_without_key_answers_missing_element(pe: Sim) -> None:
    with pe.connect() as m, pytest.raises(RPCError) as err:
        m.edit_config(
            target="candidate", config=f'<config><vlans xmlns="{VLAN_NS}"><vlan><name>x</name></vlan></vlans></config>'
        )
    assert err.value.tag == "missing-element"


def test_edit_config_continue_on_error_applies_the_good_parts(pe: Sim) -> None:
    cfg = f'<config><vlans xmlns="{VLAN_NS}"><vlan><id>5000</id></vlan><vlan><id>30</id><name>ok</name></vlan></vlans></config>'  # noqa: E501 - XML literal
    with pe.connect() as m, pytest.raises(RPCError):
        m.edit_config(target="candidate", config=cfg, error_option="continue-on-error")
    assert vlans_of(pe.datastore("candidate")) == {30: "ok"}


def test_edit_config_rollback_on_error_applies_nothing(pe: Sim) -> None:
    cfg = f'<config><vlans xmlns="{VLAN_NS}"><vlan><id>30</id><name>ok</name></vlan><vlan><id>5000</id></vlan></vlans></config>'  # noqa: E501 - XML literal
    with pe.connect() as m, pytest.raises(RPCError):
        m.edit_config(target="candidate", config=cfg, error_option="rollback-on-error")
    assert vlans_of(pe.datastore("candidate")) == {}


def test_edit_config_test_only_validates_without_applying(pe: Sim) -> None:
    with pe.connect() as m:
        m.edit_config(target="candidate", config=vlan_config((10, "a")), test_option="test-only")
        with pytest.raises(RPCError) as err:
            bad = f'<config><vlans xmlns="{VLAN_NS}"><vlan><id>11</id><member>ge-9/9/9</member></vlan></vlans></config>'
            m.edit_config(target="candidate", config=bad, test_option="test-only")
    assert err.value.tag == "data-missing" and err.value.app_tag == "instance-required"
    assert vlans_of(pe.datastore("candidate")) == {}


def test_validate_and_commit_refuse_dangling_leafref(pe: Sim) -> None:
    bad = f'<config><vlans xmlns="{VLAN_NS}"><vlan><id>11</id><member>ge-9/9/9</member></vlan></vlans></config>'
    with pe.connect() as m:
        m.edit_config(target="candidate", config=bad, test_option="set")  # set: no validation yet
        with pytest.raises(RPCError) as err:
            m.validate("candidate")
        assert err.value.path == "/pvlan:vlans/pvlan:vlan[pvlan:id='11']/pvlan:member[.='ge-9/9/9']"
        with pytest.raises(RPCError):
            m.commit()
    assert vlans_of(pe.datastore("running")) == {}


def test_edit_config_default_test_option_refuses_missing_mandatory_type(pe: Sim) -> None:
    # RFC 6241 §7.2: with :validate the default test-option is test-then-set, a full validation
    # (mandatory nodes included) before anything is set; netconfd answers the same.
    with pe.connect() as m, pytest.raises(RPCError) as err:
        m.edit_config(target="candidate", config=_interface("ge-9/0/0", "<description>x</description>"))
    assert (err.value.type, err.value.tag) == ("application", "data-missing")
    assert err.value.path == "/if:interfaces/if:interface[if:name='ge-9/0/0']/if:type"
    assert "ge-9/0/0" not in str(pe.datastore("candidate"))


def test_edit_config_test_then_set_refuses_dangling_leafref(pe: Sim) -> None:
    bad = f'<config><vlans xmlns="{VLAN_NS}"><vlan><id>11</id><member>ge-9/9/9</member></vlan></vlans></config>'
    with pe.connect() as m, pytest.raises(RPCError) as err:
        m.edit_config(target="candidate", config=bad, test_option="test-then-set")
    assert err.value.tag == "data-missing" and err.value.app_tag == "instance-required"
    assert vlans_of(pe.datastore("candidate")) == {}


def test_validate_and_commit_refuse_missing_mandatory_type_after_a_set_edit(pe: Sim) -> None:
    with pe.connect() as m:
        m.edit_config(
            target="candidate", config=_interface("ge-9/0/0", "<description>x</description>"), test_option="set"
        )
        for rpc in (lambda: m.validate("candidate"), m.commit):
            with pytest.raises(RPCError) as err:
                rpc()
            assert err.value.tag == "data-missing"
            assert err.value.path == "/if:interfaces/if:interface[if:name='ge-9/0/0']/if:type"
    assert "ge-9/0/0" not in str(pe.datastore("running"))


def test_discard_changes_resets_candidate(pe: Sim) -> None:
    with pe.connect() as m:
        m.edit_config(target="candidate", config=vlan_config((10, "a")))
        m.discard_changes()
    assert pe.datastore("candidate") == pe.datastore("running")


def test_lock_contention_names_holder_session(pe: Sim) -> None:
    with pe.connect() as a, pe.connect() as b:
        a.lock("candidate")
        with pytest.raises(RPCError) as err:
            b.lock("candidate")
        assert err.value.tag == "lock-denied"
        assert f"<session-id>{a.session_id}</session-id>" in err.value.info
        with pytest.raises(RPCError) as edit_err:
            b.edit_config(target="candidate", config=vlan_config((10, "a")))
        assert edit_err.value.tag == "in-use"
        with pytest.raises(RPCError) as unlock_err:
            b.unlock("candidate")
        assert unlock_err.value.tag == "operation-failed"
        a.unlock("candidate")
        b.lock("candidate")


def test_lock_released_when_holder_session_closes(pe: Sim) -> None:
    with pe.connect() as a:
        a.lock("running")
    pe.wait_for(lambda: not pe.device.locks)
    with pe.connect() as b:
        b.lock("running")


def test_lock_on_dirty_candidate_is_refused(pe: Sim) -> None:
    with pe.connect() as m:
        m.edit_config(target="candidate", config=vlan_config((10, "a")))
        with pytest.raises(RPCError) as err:
            m.lock("candidate")
    assert err.value.tag == "lock-denied"
    assert "<session-id>0</session-id>" in err.value.info


def test_copy_config_running_to_startup_and_delete_startup(pe: Sim) -> None:
    with pe.connect() as m:
        m.edit_config(target="candidate", config=vlan_config((10, "a")))
        m.commit()
        assert vlans_of(pe.datastore("startup")) == {}
        m.copy_config(source="running", target="startup")
        assert vlans_of(pe.datastore("startup")) == {10: "a"}
        m.delete_config(target="startup")
        assert pe.datastore("startup") == {}
        with pytest.raises(RPCError) as err:
            m.delete_config(target="running")
    assert err.value.tag == "operation-not-supported"


def test_copy_config_inline_config_to_candidate(pe: Sim) -> None:
    rpc = f'<copy-config xmlns="{NC}"><target><candidate/></target><source>{vlan_config((7, "seven"))}</source></copy-config>'  # noqa: E501 - XML literal
    with pe.connect() as m:
        m.dispatch(etree.fromstring(rpc))
    assert pe.datastore("candidate") == {"provisio-vlan:vlans": {"vlan": [{"id": 7, "name": "seven"}]}}


def test_get_config_startup(pe: Sim) -> None:
    with pe.connect() as m:
        data = m.get_config("startup").data_ele
    assert len(data.findall(f".//{{{IF_NS}}}interface")) == 6


def test_reboot_reverts_running_to_startup_and_drops_sessions(pe: Sim) -> None:
    m = pe.connect()
    m.edit_config(target="candidate", config=vlan_config((10, "a")))
    m.commit()
    pe.call(pe.device.reboot)
    assert vlans_of(pe.datastore("running")) == {}
    pe.wait_for(lambda: not pe.device.sessions)
    with pytest.raises(Exception):  # noqa: B017 - ncclient raises TransportError or TimeoutExpiredError
        m.get_config("running")


def test_kill_session_releases_its_lock(pe: Sim) -> None:
    a = pe.connect()
    with pe.connect() as b:
        a.lock("candidate")
        b.kill_session(a.session_id)
        pe.wait_for(lambda: "candidate" not in pe.device.locks)
        b.lock("candidate")
        with pytest.raises(RPCError) as err:
            b.kill_session(b.session_id)
    assert err.value.tag == "invalid-value"


def test_close_session_ends_session(pe: Sim) -> None:
    m = pe.connect()
    m.close_session()
    pe.wait_for(lambda: not pe.device.sessions)


def test_public_key_auth_is_accepted(pe: Sim, client_key, tmp_path) -> None:  # type: ignore[no-untyped-def]
    key_file = tmp_path / "id_ed25519"
    client_key.write_private_key(str(key_file))
    with pe.connect(password=None, key_filename=str(key_file)) as m:
        assert m.connected


def test_wrong_password_is_refused(pe: Sim) -> None:
    with pytest.raises(Exception):  # noqa: B017 - ncclient AuthenticationError
        pe.connect(password="wrong")

"""Fleet plumbing without sockets: manifest file, host keys, credentials, faults file, plan, CLI."""

from __future__ import annotations

import json
import random
import stat
import threading
from pathlib import Path

import asyncssh
import pytest

from simulators.cli import build_parser, config_from_args
from simulators.faults import FaultKind, FaultSet
from simulators.faults_file import FaultsFileError, parse_faults
from simulators.fleet import mixed_profiles, plan_devices
from simulators.hostkeys import CredentialSource, HostKeyStore, fingerprint, fingerprint_of_public_line, public_key_line
from simulators.manifest import (
    DeviceEntry,
    Manifest,
    SnmpCredentials,
    SnmpV3User,
    read_manifest,
    write_manifest,
)


def _entry(name: str = "pe1") -> DeviceEntry:
    return DeviceEntry(
        name=name,
        profile="pe-router",
        host="127.0.0.1",
        netconf_port=40001,
        snmp_port=None,
        username="admin",
        password="s3cret-password",
        snmp=SnmpCredentials(v3=SnmpV3User(user="provisio", auth_key="authkey12", priv_key="privkey12")),
        ssh_host_key="ssh-ed25519 AAAA",
        ssh_host_key_fingerprint="SHA256:x",
    )


def test_manifest_round_trips_with_documented_shape_and_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "manifest.json"
    manifest = Manifest(control_url="http://127.0.0.1:1234", pid=42, devices=[_entry()])
    write_manifest(path, manifest)
    document = json.loads(path.read_text())
    assert list(document) == ["version", "control_url", "pid", "devices"]
    assert document["version"] == 1
    device = document["devices"][0]
    assert device["snmp"] == {
        "v3": {
            "user": "provisio",
            "auth_key": "authkey12",
            "priv_key": "privkey12",
            "auth_protocol": "SHA",
            "priv_protocol": "AES",
        },
        "community_ro": "public",
        "community_rw": "private",
    }
    assert device["snmp_port"] is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_manifest(path) == manifest


def test_manifest_write_leaves_no_temporary_file_when_replacing(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    write_manifest(path, Manifest(control_url="http://127.0.0.1:1", pid=1, devices=[_entry("a")]))
    write_manifest(path, Manifest(control_url="http://127.0.0.1:2", pid=2, devices=[_entry("b")]))
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
    assert read_manifest(path).device("b").name == "b"


def test_manifest_reader_never_sees_half_a_file_while_it_is_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    big = Manifest(control_url="http://127.0.0.1:1", pid=1, devices=[_entry(f"pe{i}") for i in range(300)])
    write_manifest(path, big)
    stop = threading.Event()
    reads: list[int] = []
    errors: list[Exception] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                reads.append(len(read_manifest(path).devices))
            except (ValueError, OSError) as error:  # a truncated or missing document
                errors.append(error)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(40):
            write_manifest(path, big if round_ % 2 else Manifest(control_url="x", pid=2, devices=[_entry()]))
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert reads and set(reads) <= {1, 300}


def test_manifest_reader_refuses_unknown_version(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"version": 2, "control_url": "", "pid": 1, "devices": []}))
    with pytest.raises(ValueError, match="version"):
        read_manifest(path)


def test_host_key_is_stable_across_stores_for_same_directory(tmp_path: Path) -> None:
    first = HostKeyStore(tmp_path / "keys").load_or_create("pe1")
    again = HostKeyStore(tmp_path / "keys").load_or_create("pe1")
    other = HostKeyStore(tmp_path / "keys").load_or_create("pe2")
    assert fingerprint(first) == fingerprint(again)
    assert fingerprint(first) != fingerprint(other)
    assert stat.S_IMODE((tmp_path / "keys" / "pe1.key").stat().st_mode) == 0o600
    assert first.algorithm == b"ssh-ed25519"


def test_fingerprint_matches_openssh_format_of_public_line(tmp_path: Path) -> None:
    key = HostKeyStore(tmp_path).load_or_create("cpe1")
    line = public_key_line(key)
    assert line.startswith("ssh-ed25519 AAAA") and len(line.split()) == 2
    assert fingerprint(key).startswith("SHA256:")
    assert fingerprint_of_public_line(line) == fingerprint(key)
    assert asyncssh.import_public_key(line).get_fingerprint() == fingerprint(key)


def test_host_key_store_without_directory_keeps_keys_in_memory() -> None:
    store = HostKeyStore(None)
    assert store.path_for("pe1") is None
    assert fingerprint(store.load_or_create("pe1")) != fingerprint(store.load_or_create("pe1"))


def test_host_key_store_refuses_names_that_escape_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        HostKeyStore(tmp_path).load_or_create("../evil")


def test_credentials_are_stable_for_a_state_dir_and_random_without(tmp_path: Path) -> None:
    a = CredentialSource(tmp_path).for_device("pe1")
    b = CredentialSource(tmp_path).for_device("pe1")
    assert a == b
    assert a.password != CredentialSource(tmp_path).for_device("pe2").password
    assert len({a.password, a.snmp_auth_key, a.snmp_priv_key}) == 3
    assert min(len(a.password), len(a.snmp_auth_key), len(a.snmp_priv_key)) >= 8
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600
    assert CredentialSource(None).for_device("pe1") != CredentialSource(None).for_device("pe1")


def test_faults_file_applies_globs_then_exact_names() -> None:
    plan = parse_faults(
        """
faults:
  "*":
    - {kind: slow-reply, delay_ms: 200, probability: 0.5}
  pe1:
    - kind: slow-reply
      params: {delay_ms: 10}
    - {kind: commit-rpc-error, count: 2}
  "cpe*":
    - {kind: refuse-connection}
"""
    )
    faults = FaultSet(random.Random(0))
    assert plan.apply("pe1", faults) == 3
    by_kind = {f.kind: f.params for f in faults.list()}
    assert by_kind == {FaultKind.SLOW_REPLY: {"delay_ms": 10}, FaultKind.COMMIT_RPC_ERROR: {"count": 2}}
    assert [f.kind for f in plan.for_device("cpe7")] == [FaultKind.SLOW_REPLY, FaultKind.REFUSE_CONNECTION]
    assert [f.kind for f in plan.for_device("sw1")] == [FaultKind.SLOW_REPLY]


def test_faults_file_reads_json_without_wrapper() -> None:
    plan = parse_faults(json.dumps({"sw1": [{"kind": "snmp-timeout", "probability": 1}]}))
    assert [f.kind for f in plan.for_device("sw1")] == [FaultKind.SNMP_TIMEOUT]
    assert plan.unmatched_patterns(["pe1"]) == ["sw1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pe1: [{kind: melt-down}]", "unknown fault kind 'melt-down'"),
        ("pe1: [{kind: slow-reply, delay_ms: -1}]", "delay_ms"),
        ("pe1: [{kind: slow-reply, probability: 1.5}]", "probability"),
        ("pe1: [{kind: commit-rpc-error, count: 0}]", "count"),
        ("pe1: [slow-reply]", "mapping with a 'kind'"),
        ("- pe1", "expected a mapping"),
        ("pe1: {kind: [", "not valid YAML"),
    ],
)
def test_faults_file_rejects_bad_entries_with_position(text: str, message: str) -> None:
    with pytest.raises(FaultsFileError, match=message):
        parse_faults(text, source="f.yaml")


def test_mixed_blend_is_seeded_and_has_every_profile() -> None:
    blend = mixed_profiles(20, seed=7)
    assert blend == mixed_profiles(20, seed=7)
    assert blend != mixed_profiles(20, seed=8)
    assert {p: blend.count(p) for p in set(blend)} == {"pe-router": 2, "legacy-switch": 4, "cpe": 14}
    assert set(mixed_profiles(3, seed=0)) == {"pe-router", "cpe", "legacy-switch"}


def test_plan_names_per_profile_and_assigns_two_ports_per_device() -> None:
    plan = plan_devices(4, "mixed", seed=1, base_port=40000)
    assert [(s.netconf_port, s.snmp_port) for s in plan] == [(40000 + 2 * i, 40001 + 2 * i) for i in range(4)]
    names = sorted(s.name for s in plan)
    assert names == sorted({"pe1", "sw1", "cpe1", "cpe2"})
    prefixed = plan_devices(3, "cpe", name_prefix="edge-")
    assert [s.name for s in prefixed] == ["edge-1", "edge-2", "edge-3"]
    assert all(s.netconf_port == 0 for s in prefixed)


def test_cli_parses_every_option(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        [
            "--devices", "5", "--profile", "cpe", "--base-port", "41000", "--state-dir", str(tmp_path),
            "--seed", "3", "--commit-latency-ms", "250", "--faults", "f.yaml",
            "--manifest", str(tmp_path / "m.json"), "--control-port", "41999", "--name-prefix", "x",
            "--authorized-keys", "keys.pub",
        ]
    )  # fmt: skip
    config = config_from_args(args)
    assert (config.devices, config.profile, config.base_port, config.seed) == (5, "cpe", 41000, 3)
    assert (config.commit_latency_ms, config.control_port, config.name_prefix) == (250, 41999, "x")
    assert config.manifest == tmp_path / "m.json"
    assert config.faults_file == Path("f.yaml")
    assert config.authorized_keys == Path("keys.pub")


def test_cli_defaults_manifest_into_state_dir(tmp_path: Path) -> None:
    config = config_from_args(build_parser().parse_args(["--devices", "1", "--state-dir", str(tmp_path)]))
    assert config.manifest == (tmp_path / "manifest.json").absolute()
    assert config.profile == "mixed" and config.base_port is None


@pytest.mark.parametrize(
    "argv",
    [["--devices", "0"], ["--devices", "2", "--profile", "router"], ["--devices", "1", "--base-port", "70000"], []],
)
def test_cli_rejects_bad_arguments(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == 2


def test_cli_rejects_base_port_without_room() -> None:
    args = build_parser().parse_args(["--devices", "10", "--base-port", "65530"])
    with pytest.raises(ValueError, match="no room"):
        config_from_args(args)


def test_device_entry_repr_hides_password_communities_and_v3_keys() -> None:
    from simulators.manifest import DeviceEntry, SnmpCredentials, SnmpV3User

    secrets = ["pw-SECRET", "ro-SECRET", "rw-SECRET", "auth-SECRET", "priv-SECRET"]
    entry = DeviceEntry(
        name="pe1",
        profile="pe-router",
        host="127.0.0.1",
        netconf_port=1,
        snmp_port=2,
        username="admin",
        password=secrets[0],
        snmp=SnmpCredentials(
            v3=SnmpV3User("provisio", secrets[3], secrets[4]), community_ro=secrets[1], community_rw=secrets[2]
        ),
        ssh_host_key=None,
        ssh_host_key_fingerprint=None,
    )
    shown = repr(entry) + str(entry)
    assert "pe1" in shown
    assert not [secret for secret in secrets if secret in shown]

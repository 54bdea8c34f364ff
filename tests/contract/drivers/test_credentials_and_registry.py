"""Credentials come from one file and never show in reprs, errors or logs; the registry picks drivers."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import pytest

from common.errors import InvalidInput, NotFound
from oss.activation.drivers.credentials import ENV_CREDENTIALS_FILE, CredentialStore, Secret
from oss.activation.drivers.errors import AuthenticationFailed, CapabilityMissing, DriverError, HostKeyMismatch
from oss.activation.drivers.fake import FakeDevice, FakeDriver, FakeNetwork
from oss.activation.drivers.netconf import NetconfDriver
from oss.activation.drivers.registry import driver_for
from oss.activation.drivers.snmp import SnmpDriver

PASSWORD = "s3cret-Pa55word"
AUTH_KEY = "auth-K3y-never-shown"
PRIV_KEY = "priv-K3y-never-shown"
COMMUNITY_RW = "rw-c0mmunity-never-shown"
SECRETS = (PASSWORD, AUTH_KEY, PRIV_KEY, COMMUNITY_RW)


@pytest.fixture
def credentials_file(tmp_path: Path) -> Path:
    document = {
        "version": 1,
        "control_url": "http://127.0.0.1:1",
        "devices": [
            {"name": "pe1", "profile": "pe-router", "host": "127.0.0.1", "netconf_port": 1, "snmp_port": 2,
             "username": "admin", "password": PASSWORD,
             "snmp": {"community_ro": "public", "community_rw": COMMUNITY_RW,
                      "v3": {"user": "provisio", "auth_protocol": "SHA", "auth_key": AUTH_KEY,
                             "priv_protocol": "AES", "priv_key": PRIV_KEY}},
             "ssh_host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"},
            {"name": "sw1", "profile": "legacy-switch", "host": "127.0.0.1", "snmp_port": 3,
             "username": "admin", "password": PASSWORD,
             "snmp": {"community_ro": "public", "community_rw": COMMUNITY_RW}},
        ],
    }  # fmt: skip
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(document))
    return path


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_credentials_load_from_the_file_named_by_the_environment(
    credentials_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_CREDENTIALS_FILE, str(credentials_file))
    store = CredentialStore.from_settings()
    pe1 = store.get("pe1")
    assert pe1.password is not None and pe1.password.reveal() == PASSWORD
    assert pe1.snmp is not None and pe1.snmp.v3 is not None and pe1.snmp.v3.priv_key.reveal() == PRIV_KEY
    assert len(store) == 2
    with pytest.raises(NotFound):
        store.get("nope")


def test_credentials_never_show_in_repr_str_format_or_pickle(credentials_file: Path) -> None:
    store = CredentialStore.from_file(credentials_file)
    for device in store:
        _assert_no_secret(repr(device) + str(device) + f"{device}" + repr(store))
        for driver in (NetconfDriver(device), SnmpDriver(device, version="v2c")):
            _assert_no_secret(repr(driver) + str(driver))
    assert f"{Secret(PASSWORD)}" == "***"
    with pytest.raises(TypeError):
        pickle.dumps(Secret(PASSWORD))


def test_credentials_never_show_in_errors_or_logs(credentials_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    pe1 = CredentialStore.from_file(credentials_file).get("pe1")
    driver = NetconfDriver(pe1, connect_timeout_s=1)
    with pytest.raises(DriverError) as failure:  # nothing listens on port 1
        driver.open()
    _assert_no_secret(repr(failure.value) + str(failure.value) + json.dumps(failure.value.details, default=str))
    fake = FakeDevice("pe1", password="other")
    with pytest.raises(AuthenticationFailed) as refused:
        FakeDriver(fake, pe1).open()
    _assert_no_secret(repr(refused.value) + str(refused.value) + str(refused.value.details))
    _assert_no_secret(caplog.text)


def test_malformed_credentials_file_names_the_field_not_the_value(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"devices": [{"password": PASSWORD}]}))
    with pytest.raises(InvalidInput) as bad:
        CredentialStore.from_file(path)
    assert "name" in str(bad.value)
    _assert_no_secret(str(bad.value))
    path.write_text('{"devices": [{"password": "' + PASSWORD + '"')
    with pytest.raises(InvalidInput) as broken:
        CredentialStore.from_file(path)
    _assert_no_secret(str(broken.value))


def test_device_without_a_known_host_key_is_refused_before_connecting(credentials_file: Path) -> None:
    import dataclasses

    pe1 = CredentialStore.from_file(credentials_file).get("pe1")
    with pytest.raises(HostKeyMismatch):
        NetconfDriver(dataclasses.replace(pe1, ssh_host_key=None)).open()


def test_registry_picks_the_driver_by_profile(credentials_file: Path) -> None:
    store = CredentialStore.from_file(credentials_file)
    assert isinstance(driver_for(store.get("pe1")), NetconfDriver)
    assert isinstance(driver_for(store.get("pe1"), "snmp"), SnmpDriver)
    assert isinstance(driver_for(store.get("sw1")), SnmpDriver)
    with pytest.raises(CapabilityMissing):
        driver_for(store.get("sw1"), "netconf")
    network = FakeNetwork([FakeDevice("pe1", password=PASSWORD)])
    fake = driver_for(store.get("pe1"), fake_network=network)
    assert isinstance(fake, FakeDriver)
    with fake:
        assert fake.has(":candidate")


def test_snmp_driver_refuses_v3_without_a_v3_user(credentials_file: Path) -> None:
    sw1 = CredentialStore.from_file(credentials_file).get("sw1")
    with pytest.raises(AuthenticationFailed):
        SnmpDriver(sw1, version="v3").open()

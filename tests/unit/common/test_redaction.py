"""Credentials in URLs are masked wherever people read them (issue 14 item 17)."""

from __future__ import annotations

import pytest

from common.redaction import redact_url, redact_urls_in_text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pw@listener.example/cb", "http://***@listener.example/cb"),
        ("https://token@listener.example:8443/cb", "https://***@listener.example:8443/cb"),
        ("http://a:b@c@listener.example/", "http://***@listener.example/"),
        ("http://listener.example/cb?access_token=abc&page=2", "http://listener.example/cb?access_token=***&page=2"),
        (
            "http://listener.example/cb?apiKey=1&Signature=2&x=3#f",
            "http://listener.example/cb?apiKey=***&Signature=***&x=3#f",
        ),
        ("http://listener.example/cb?pass%77ord=1", "http://listener.example/cb?pass%77ord=***"),
        ("http://127.0.0.1:9/x?q=a%20b", "http://127.0.0.1:9/x?q=a%20b"),
        ("http://listener.example/p@th?token=", "http://listener.example/p@th?token="),
        ("not a url", "not a url"),
    ],
)
def test_redact_url_masks_userinfo_and_secret_parameters(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_urls_in_text_finds_every_url() -> None:
    text = "POST http://u:p@a.example/x failed; retry 'https://b.example/?secret=s' later"
    shown = "POST http://***@a.example/x failed; retry 'https://b.example/?secret=***' later"
    assert redact_urls_in_text(text) == shown

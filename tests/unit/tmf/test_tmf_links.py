"""common.tmf.href: segments are percent-encoded exactly as ``quote(segment, safe="")`` does (RFC 3986),
whether or not the fast path for unreserved-only segments is taken."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given, seed, settings
from hypothesis import strategies as st

from common import request_context
from common.tmf import href


@seed(3986)
@settings(max_examples=300, database=None, deadline=None)
@given(segment=st.text(max_size=12) | st.uuids().map(str) | st.sampled_from(["", "a b", "a/b", "%41", "~x._-"]))
def test_href_encodes_every_segment_as_quote_does(segment: str) -> None:
    with request_context.bind(base_url="http://testserver"):
        assert href("/api/v1/", "resource", segment) == f"http://testserver/api/v1/resource/{quote(segment, safe='')}"

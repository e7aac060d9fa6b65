"""Where the registry may call a DCI client back: only under the URL prefixes registered for
that client (REGISTRY_DCI_CALLBACK_URLS), matched by scheme, host, port and whole path
segments, so a client cannot point the registry at another host, port or path of its
choosing (its own network's services included)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.registry.config import Settings
from services.registry.dci.envelope import CallbackAllowList
from shared.principal import Principal

MOH = CallbackAllowList(["https://his.moh.gov.kh/dci/", "http://127.0.0.1:*/cb"])


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://his.moh.gov.kh/dci/on-search", True),
        ("https://HIS.moh.gov.kh/dci/notify/42", True),
        ("https://his.moh.gov.kh:443/dci/x", True),
        ("https://his.moh.gov.kh/dci", True),
        ("https://his.moh.gov.kh/dcix", False),
        ("https://his.moh.gov.kh/other", False),
        ("http://his.moh.gov.kh/dci/x", False),
        ("https://his.moh.gov.kh:8443/dci/x", False),
        ("https://his.moh.gov.kh.evil.example/dci/x", False),
        ("https://his.moh.gov.kh/dci/../admin", False),
        ("https://his.moh.gov.kh/dci/%2E%2E/admin", False),
        ("http://127.0.0.1:5555/cb", True),
        ("http://127.0.0.1:1/cb/on-search", True),
        ("http://127.0.0.1:5555/cbx", False),
        ("http://127.0.0.1:5555/", False),
        ("http://localhost:5555/cb", False),
        ("http://127.0.0.1:99999/cb", False),
    ],
)
def test_a_callback_must_be_under_a_registered_prefix(url, allowed):
    assert MOH.allows(url) is allowed


def test_the_allow_list_is_per_client():
    settings = Settings(dci_callback_urls={"moh-health-equity": ["https://his.moh.gov.kh/"]})
    moh = Principal(sub="client:moh-health-equity", client=True)
    other = Principal(sub="client:pp-social-services", client=True)
    assert settings.dci_callbacks_for(moh).allows("https://his.moh.gov.kh/cb")
    assert not settings.dci_callbacks_for(other).allows("https://his.moh.gov.kh/cb")


@pytest.mark.parametrize(
    "prefix", ["ftp://his.moh.gov.kh/", "his.moh.gov.kh/dci", "https://:8080/", "http://h:x/"]
)
def test_a_malformed_prefix_stops_the_service_at_startup(prefix):
    with pytest.raises(ValidationError, match="dci_callback_urls"):
        Settings(dci_callback_urls={"moh-health-equity": [prefix]})

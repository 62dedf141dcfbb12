"""The SSRF guard on webhook targets (OWASP SSRF Prevention Cheat Sheet):
every spelling of a loopback, private or reserved address is refused,
including IPv6 forms that embed one, and the server's own host names."""

import socket

import pytest
from django.core.exceptions import ValidationError

from proposals.webhooks.delivery import resolve_target

REFUSED = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://017700000001/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://10.0.0.1/",
    "http://169.254.169.254/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://224.0.0.1/",
    # IPv6 forms that embed an IPv4 loopback/private address, routed to it
    # by translators and tunnels: NAT64, 6to4, IPv4-compatible, Teredo.
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b::a00:1]/",
    "http://[64:ff9b:1::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a00:1::]/",
    "http://[::127.0.0.1]/",
    "http://[::10.0.0.1]/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_in_every_spelling_are_refused(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(ValidationError):
        resolve_target(url)


@pytest.mark.parametrize("url", ["http://[64:ff9b::5db8:d822]/", "http://[2002:5db8:d822::]/"])
def test_ipv6_forms_of_a_public_address_are_allowed(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    assert resolve_target(url)


@pytest.mark.parametrize("host", ["www.tracker.example", "tracker.example", "API.Tracker.Example."])
def test_the_servers_own_names_are_refused_including_allowed_hosts_wildcards(host, settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.ALLOWED_HOSTS = [".tracker.example", "*"]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 80))])
    with pytest.raises(ValidationError, match="tracker itself"):
        resolve_target(f"http://{host}/")
    # "*" (any host) does not make every target "the server itself".
    assert resolve_target("http://other.example/") == ["93.184.216.34"]

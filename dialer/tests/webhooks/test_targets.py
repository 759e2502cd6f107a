"""Callback targets: the request-time URL check, and the delivery-time check of the addresses a name
resolves to (the request then goes to the checked address)."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from prometheus_client import REGISTRY

from dialer.webhooks import RefusedTargetError, is_public_address, validate_callback_url
from dialer.webhooks.targets import resolve_target
from dialer.webhooks.testing import Receiver, WebhookHarness

REFUSED_URLS = [
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.10:8080/hook",
    "http://100.64.0.1/hook",
    "http://127.0.0.1/hook",
    "http://127.1/hook",
    "http://127.0.0.1./hook",
    "http://2130706433/hook",
    "http://0x7f.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:10.0.0.1]/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/hook",
    "http://[fe80::1%25eth0]/hook",
    "http://[fc00::1]/hook",
    "http://224.0.0.1/hook",
    "http://[ff02::1]/hook",
    "http://240.0.0.1/hook",
    "http://0.0.0.0/hook",
    "http://[::]/hook",
    "http://localhost/hook",
    "http://LOCALHOST.:8080/hook",
    "http://api.localhost/hook",
]
ACCEPTED_URLS = [
    "https://hooks.example.com/dialplane?token=abc",
    "http://93.184.216.34:8080/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://[::ffff:8.8.8.8]/hook",
    "HTTPS://Hooks.Example.com",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_non_public_hosts_are_refused_at_request_time(url: str) -> None:
    with pytest.raises(RefusedTargetError, match="public"):
        validate_callback_url(url, allow_private=False)
    validate_callback_url(url, allow_private=True)


@pytest.mark.parametrize("url", ACCEPTED_URLS)
def test_public_hosts_are_accepted(url: str) -> None:
    validate_callback_url(url, allow_private=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.com/x", "http or https"),
        ("hooks.example.com/x", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("https://user:pass@hooks.example.com/x", "credentials"),
        ("https://token@hooks.example.com/x", "credentials"),
        ("https:///x", "host"),
        ("https://hooks.example.com:99999/x", "port"),
        ("https://hooks.example.com/a b", "whitespace"),
        ("https://hooks.example.com/" + "a" * 2100, "longer"),
    ],
)
def test_malformed_urls_are_refused_whatever_the_setting(url: str, reason: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(ValueError, match=reason):
            validate_callback_url(url, allow_private=allow_private)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("2002:0808:0808::1", True),  # 6to4 of 8.8.8.8
        ("2002:7f00:0001::1", False),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("::127.0.0.1", False),
        ("ff0e::1", False),
        ("192.0.2.1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def local_name() -> str:
    """A name the system resolver maps to a non-public address (this machine's host name)."""
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    except OSError:
        pytest.skip(f"the host name {name!r} does not resolve here")
    if all(is_public_address(ipaddress.ip_address(a.split("%")[0])) for a in addresses):
        pytest.skip(f"the host name {name!r} resolves to public addresses here")
    return name


async def test_a_name_resolving_to_a_local_address_is_refused_at_delivery_time() -> None:
    name = local_name()
    validate_callback_url(f"http://{name}/hook", allow_private=False)  # the name alone looks fine
    with pytest.raises(RefusedTargetError, match="not public"):
        await resolve_target(f"http://{name}/hook")


async def test_such_a_delivery_fails_at_once_without_a_request(
    receiver: Receiver, webhooks: WebhookHarness
) -> None:
    port = receiver.base_url.rsplit(":", 1)[1]
    url = f"http://{local_name()}:{port}/private"
    refused_before = REGISTRY.get_sample_value("dialplane_webhook_deliveries_total", {"outcome": "refused"})
    await webhooks.start_runner(allow_private_targets=False)
    await webhooks.enqueue("call-1", url, "call.answered")

    [delivery] = await webhooks.settled("call-1")
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error is not None and "not public" in delivery.last_error
    assert [a.attempt for a in await webhooks.attempts(delivery.id)] == [1]
    assert receiver.requests == []
    refused = REGISTRY.get_sample_value("dialplane_webhook_deliveries_total", {"outcome": "refused"})
    assert refused == (refused_before or 0) + 1

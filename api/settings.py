"""The API's helpers over its settings; the settings themselves are ``store.settings.Settings``
(one class for every ``PCSEARCH_*`` variable, read once)."""

from __future__ import annotations

import ipaddress

from api.secret_check import split_tokens
from store.settings import Settings


def is_local_host(host: str) -> bool:
    """Whether only this machine can connect to ``host``: localhost, 127.0.0.0/8 or ::1."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a host name: it may resolve to any interface
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def tokens(settings: Settings) -> tuple[str, ...]:
    """The bearer tokens of ``PCSEARCH_API_TOKENS``, split as the secrets check splits them."""
    return split_tokens(settings.api_tokens.get_secret_value())

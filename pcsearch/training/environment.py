"""Library versions and the device, stored with every result."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version

import jax


@cache
def environment() -> dict[str, str]:
    info: dict[str, str] = {}
    for package in ("pcsearch", "jax", "jaxlib", "equinox", "optax"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = "unknown"
    device = jax.devices()[0]
    info["device"] = f"{device.platform}:{getattr(device, 'device_kind', 'unknown')}"
    info["device_count"] = str(jax.device_count())
    return info

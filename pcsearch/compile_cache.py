"""JAX's persistent compilation cache, so a new process reuses earlier compilations."""

from __future__ import annotations

import os
from pathlib import Path

import jax

_enabled: Path | None = None


def default_cache_dir() -> Path:
    root = os.environ.get("PCSEARCH_CACHE_DIR") or Path.home() / ".cache" / "pcsearch"
    return Path(root) / "jax-compilation-cache"


def enable_compilation_cache(path: str | Path | None = None) -> Path:
    """Turn the cache on (idempotent); every compiled program is written, however quick."""
    global _enabled
    target = Path(path) if path is not None else default_cache_dir()
    if _enabled == target:
        return target
    target.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(target))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _enabled = target
    return target

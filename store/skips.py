"""Why a worker is leaving a study alone: marks on the study that ``status`` and the API show.

A worker that meets an error it cannot settle in one study (a config from a newer
pcsearch, a broken storage row, ...) skips that study for a while and goes on with the
others. Without a mark on the study, an idle fleet beside a queued study would be a
mystery to the person watching it; with one, they read which worker skips it and why.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import optuna

from store.attrs import SKIPPED_PREFIX


def mark_skipped(
    storage: optuna.storages.BaseStorage, study_id: int, worker: str, reason: str, seconds: float
) -> None:
    storage.set_study_user_attr(
        study_id,
        SKIPPED_PREFIX + worker,
        {
            "reason": reason,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "retry_after_seconds": round(seconds),
        },
    )


def clear_skipped(storage: optuna.storages.BaseStorage, study_id: int, worker: str) -> None:
    storage.set_study_user_attr(study_id, SKIPPED_PREFIX + worker, None)


def skipping_workers(user_attrs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Workers that skip the study now, by worker id, each with its reason."""
    return {
        key.removeprefix(SKIPPED_PREFIX): value
        for key, value in user_attrs.items()
        if key.startswith(SKIPPED_PREFIX) and value
    }

"""The worker: claim trials, train, tell; survive bad trials, odd studies and outages.

One :class:`Worker` per process. It holds one storage (retried through outages), one
heartbeat thread renewing the leases of the trials it holds, one stale watch per study,
and a failure budget per study: a worker that fails ``PCSEARCH_MAX_CONSECUTIVE_FAILURES``
trials of a study in a row stops taking that study and says why on the study, so a
broken machine never stops the healthy ones.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable

import optuna
from optuna.trial import TrialState

from store import attrs, skips, studies
from store.config import StudyConfig
from store.errors import StoreError
from store.leases import Heartbeat, Holdings, StaleWatch, release, worker_id
from store.resilience import deadline
from store.samplers import make_pruner, sampler_identity, study_sampler
from store.settings import settings
from store.storage import open_storage, redact, slot_lock
from workers import liveness
from workers.claim import FINISHED, Claimed, claim, structure
from workers.errors import WorkerError
from workers.fault_injection import hang_point, start_barrier
from workers.trial_runner import run_batch, run_trial

GIVE_BACK_SECONDS = 3.0
"""After a failed queued give-back (3 s), how long failing the trials may keep trying; the
whole stop stays inside the watchdog's hard deadline (``workers.signals.HARD_DEADLINE``)."""

log = logging.getLogger("pcsearch.worker")


class GaveUp(WorkerError):
    """This worker stopped taking a study whose trials it kept failing."""


class StudyStopped(WorkerError):
    """The study was stopped by a person while this worker waited for it."""


class Worker:
    def __init__(
        self,
        url: str,
        *,
        seed: int | None = None,
        batch: int | None = None,
        poll: float = 5.0,
        on_trials: Callable[[list[TrialState | None]], None] | None = None,
    ) -> None:
        self.url, self.seed, self.batch, self.poll = url, seed, batch, poll
        self.identity = sampler_identity()
        """Who this worker is when it registers for its own sampler stream on a study;
        ``seed`` is only an extra salt (see :mod:`store.samplers`)."""
        self.on_trials = on_trials
        start_barrier()
        self.storage = open_storage(url, worker=True)
        self.holdings = Holdings()
        self.heartbeat = Heartbeat(self.holdings)
        self.stopping = threading.Event()
        self.claiming = threading.Lock()
        """Held during a claim, so that a stop gives back every trial the claim took."""
        self.ran = 0
        self.gave_up: dict[str, str] = {}
        self._studies: dict[str, optuna.Study] = {}
        self._watches: defaultdict[str, StaleWatch] = defaultdict(StaleWatch)
        self._failures: Counter[str] = Counter()
        self._broken: dict[int, float] = {}
        """Study id -> when to look again at a study that raised."""
        self._ids: dict[str, int] = {}
        """Study name -> the storage id last seen under it."""
        self._marked: set[int] = set()
        """Studies on which this worker left a ``skipped:`` mark."""

    def announce(self, only: str | None = None) -> None:
        """One line saying the worker is connected: where, which studies it sees, on what."""
        found = studies.pcsearch_studies(self.storage)
        if only is not None:
            seen = f"study {only}" + (
                "" if any(s.study_name == only for s in found) else " (not there yet)"
            )
        else:
            active = [s.study_name for s in found if attrs.stored(s).control == attrs.ACTIVE]
            listed = ", ".join(active[:5]) + (", ..." if len(active) > 5 else "")
            seen = f"{len(found)} pcsearch studies, {len(active)} active" + (
                f" ({listed})" if active else ""
            )
        log.info(
            "worker %s ready: storage %s; %s; devices: %s",
            worker_id(),
            redact(self.url),
            seen,
            _devices(),
        )

    # --- one study ------------------------------------------------------------------------

    def study(self, name: str) -> optuna.Study:
        """The study, loaded once, with this worker's sampler and pruner."""
        if name not in self._studies:
            study, config = studies.load(self.storage, name, upgrade=True)
            study.sampler = study_sampler(study, self.url, config, self.seed, self.identity)
            study.pruner = make_pruner(config)
            self._studies[name] = study
        return self._studies[name]

    def run_study(self, name: str, until_done: bool = False) -> int:
        """Take trials of one study while it needs them; returns how many this call ran.

        With ``until_done`` the worker also waits while others' trials run (one of them
        may be abandoned and need a retry), and returns once the study has all its
        trials. It raises :class:`GaveUp` or :class:`StudyStopped` when it cannot.
        """
        study = self.study(name)
        ran = 0
        while not self.stopping.is_set():
            liveness.beat()
            if name in self.gave_up:
                if until_done:
                    raise GaveUp(f"gave up on study {name!r}: {self.gave_up[name]}")
                return ran
            with self.claiming:
                config, claimed = claim(
                    study, self.url, self.batch, self.holdings, self._watches[name], self.stopping
                )
            if config is None:
                if until_done:
                    self._explain_inactive(study, name)
                return ran
            if claimed:
                ran += self._train(study, name, config, claimed)
                continue
            finished = len(study.get_trials(deepcopy=False, states=FINISHED))
            if finished >= config.n_trials or not until_done:
                return ran
            self.stopping.wait(min(self.poll, settings().heartbeat_seconds))
        return ran

    def _explain_inactive(self, study: optuna.Study, name: str) -> None:
        state = studies.status(study)
        if state == attrs.FAILING:
            reasons = studies.failing_workers(study.user_attrs)
            last = next(reversed(reasons.values()), {}).get("reason", "see the study")
            raise GaveUp(f"study {name!r} is marked failing by its workers; last: {last}")
        raise StudyStopped(f"study {name!r} was stopped; resume it to go on")

    def _train(
        self, study: optuna.Study, name: str, config: StudyConfig, claimed: list[Claimed]
    ) -> int:
        """Train what was claimed, one program per structure (a queued retry may differ)."""
        groups: dict[tuple, list[Claimed]] = {}
        for c in claimed:
            groups.setdefault(structure(c.params), []).append(c)
        for group in groups.values():
            trials = [c.trial for c in group]
            for c in group:
                log.info("trial %s#%d started: %s", name, c.trial.number, _short(c.params))
            started = time.monotonic()
            try:
                hang_point("train")
                if len(group) == 1:
                    states = [run_trial(study, trials[0], group[0].params, config, self._is_lost)]
                else:
                    params = [c.params for c in group]
                    states = run_batch(study, trials, params, config, self._is_lost)
            except Exception as error:
                log.exception("trial(s) %s failed", [t.number for t in trials])
                states = [TrialState.FAIL] * len(trials)
                self._failed(study, name, trials, error)
            else:
                self._failures[name] = 0
            finally:
                self.holdings.drop(t._trial_id for t in trials)
            self._log_finished(study, name, trials, states, time.monotonic() - started)
            self.ran += len(trials)
            if self.on_trials is not None:
                self.on_trials(states)
        return len(claimed)

    def _log_finished(
        self,
        study: optuna.Study,
        name: str,
        trials: list[optuna.Trial],
        states: list[TrialState | None],
        seconds: float,
    ) -> None:
        for trial, state in zip(trials, states, strict=True):
            value = None
            if state == TrialState.COMPLETE:
                with contextlib.suppress(Exception):  # a log line must not fail a trial
                    value = study._storage.get_trial(trial._trial_id).value
            outcome = "given up" if state is None else state.name.lower()
            shown = "" if value is None else f", value {value:.6g}"
            log.info("trial %s#%d %s%s in %.1f s", name, trial.number, outcome, shown, seconds)

    def _is_lost(self, trial: optuna.Trial) -> bool:
        return trial._trial_id in self.holdings.lost

    def _failed(
        self, study: optuna.Study, name: str, trials: list[optuna.Trial], error: Exception
    ) -> None:
        """Give the trials back for a retry elsewhere, and count the failure against this
        worker: after too many in a row it stops taking the study."""
        reason = f"error: {type(error).__name__}: {error}"
        for trial in trials:
            with contextlib.suppress(Exception):  # already finished: nothing to annotate
                trial.set_user_attr(attrs.ERROR, reason)
        with slot_lock(self.url, name):
            release(study, [t._trial_id for t in trials], reason, retry=True)
        self._failures[name] += 1
        failures = self._failures[name]
        limit = settings().max_consecutive_failures
        if failures >= limit:
            why = f"{failures} trials failed in a row on {worker_id()}; last {reason}"
            self.gave_up[name] = why
            failing = studies.give_up(study, worker_id(), why, failures, settings().failing_workers)
            log.error("giving up on study %s: %s%s", name, why, " (study marked failing)" * failing)
            return
        self.stopping.wait(settings().failure_backoff_seconds * 2 ** (failures - 1))

    # --- every study ------------------------------------------------------------------------

    def serve(self, once: bool = False) -> None:
        """The service loop: keep taking trials from every active pcsearch study.

        Studies are told apart by their storage id, not their name: a study deleted and
        created again under the same name is a new study, served at once.
        """
        while not self.stopping.is_set():
            liveness.beat()
            worked = 0
            for summary in studies.pcsearch_studies(self.storage):
                name, study_id = summary.study_name, summary._study_id
                if self._ids.get(name, study_id) != study_id:
                    self._forget(name)  # deleted and created again under this name
                self._ids[name] = study_id
                if not self._worth_a_look(name, study_id, summary):
                    continue
                try:
                    worked += self.run_study(name)
                    if study_id in self._marked:  # it works for us again: clear our mark
                        skips.clear_skipped(self.storage, study_id, worker_id())
                        self._marked.discard(study_id)
                except studies.StudyNotFound:
                    self._forget(name)  # deleted while we looked: nothing to skip
                except Exception as error:  # one odd study must not stop the service
                    self._skip(name, study_id, error)
            if once:
                return
            if not worked:
                self.stopping.wait(self.poll)

    def _skip(self, name: str, study_id: int, error: Exception) -> None:
        """Leave a study that raised for a while, saying why in the log and on the study
        (``status`` and the API show it), so an idle fleet is never a mystery."""
        self._forget(name)
        seconds = settings().skip_study_seconds
        self._broken[study_id] = time.monotonic() + seconds
        reason = error if isinstance(error, (StoreError, WorkerError)) else repr(error)
        log.error("skipping study %s for %.0f s: %s", name, seconds, reason)
        with contextlib.suppress(Exception):  # the study may be gone or unwritable
            skips.mark_skipped(self.storage, study_id, worker_id(), str(reason), seconds)
            self._marked.add(study_id)

    def _forget(self, name: str) -> None:
        """Drop what this worker remembers of a study name (its id may have changed)."""
        self._studies.pop(name, None)
        self._watches.pop(name, None)
        self._failures.pop(name, None)
        self.gave_up.pop(name, None)

    def _worth_a_look(self, name: str, study_id: int, summary: optuna.study.FrozenStudy) -> bool:
        if name in self.gave_up:
            return False
        if attrs.stored(summary).control != attrs.ACTIVE:
            return False
        return self._broken.get(study_id, 0.0) <= time.monotonic()

    # --- stopping ---------------------------------------------------------------------------

    def stop(self, signal_name: str) -> None:
        """Give back every held trial (queued again for another worker) and stop taking
        work; runs in the stop watchdog's thread while the main thread may be mid-epoch.

        A claim in progress is waited for (it takes no new trial once ``stopping`` is set),
        so the trials it made are given back too; if it cannot finish (the database is
        away), whatever it adds before the watchdog's deadline is given back as it appears.
        """
        self.stopping.set()
        self.heartbeat.stop()
        settled = self.claiming.acquire(timeout=1.5)
        reason = f"worker stopped by {signal_name}"
        log.warning("%s; giving back %d trial(s)", reason, len(self.holdings.snapshot()))
        given: set[int] = set()
        while True:
            pending = [h for h in self.holdings.snapshot() if h[1] not in given]
            self._give_back(pending, reason)
            given.update(trial_id for _, trial_id in pending)
            if settled or self.claiming.acquire(timeout=0.2):
                settled = True
                if all(h[1] in given for h in self.holdings.snapshot()):
                    return

    def _give_back(self, held: list[tuple[optuna.Study, int]], reason: str) -> None:
        """Queue the trials again under the slot lock; when that cannot be had in time (a
        busy or slow storage), fail them without the lock, and keep trying until shortly
        before the watchdog's hard deadline: a trial left RUNNING would otherwise be
        reaped later as lost, its real reason gone."""
        by_study: dict[str, tuple[optuna.Study, list[int]]] = {}
        for study, trial_id in held:
            by_study.setdefault(study.study_name, (study, []))[1].append(trial_id)
        give_up = time.monotonic() + GIVE_BACK_SECONDS
        for name, (study, trial_ids) in by_study.items():
            try:
                with deadline(3.0), slot_lock(self.url, name):
                    release(study, trial_ids, reason, retry=True)
                continue
            except Exception as error:
                log.warning("could not queue trials of %s again (%s); failing them", name, error)
            while True:
                try:
                    with deadline(max(0.5, give_up - time.monotonic())):
                        release(study, trial_ids, reason, retry=False)
                    break
                except Exception as error:
                    if time.monotonic() >= give_up:
                        log.error("could not fail trials %s of %s: %s", trial_ids, name, error)
                        break
                    time.sleep(0.1)


def _short(params: dict[str, object]) -> str:
    """Parameters as one short line: floats to 4 significant digits."""
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(params.items())
    )


def _devices() -> str:
    """What trials will run on, as JAX sees it (no JAX import in a dry run)."""
    if settings().worker_dry_run:
        return "none (dry run)"
    import jax

    devices = jax.devices()
    return f"{len(devices)} x {devices[0].platform}" if devices else "none"

"""``pcsearch search``: a real search with no server, on local worker processes."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import optuna

from pcsearch.errors import PCSearchError
from search_spaces import SearchSpace, default_space, get_space
from workers import studies, views
from workers.config import PRUNERS, SAMPLERS, StudyConfig, check_study_name
from workers.leases import StaleWatch, reap
from workers.local import default_jobs, start_workers, stop_all
from workers.storage import (
    DEFAULT_STORAGE,
    dashboard_command,
    journal_path,
    open_storage,
    redact,
    slot_lock,
    storage_url,
)

REAP_EVERY = 1.0


class Stopped(Exception):
    """SIGTERM reached the search command."""


def resolve_space(name: str | None, task: str, algorithm: str) -> SearchSpace:
    if name is None:
        return default_space(task, algorithm)
    if Path(name).suffix in (".json", ".yaml", ".yml"):
        if not Path(name).exists():
            raise PCSearchError(f"--space {name!r}: no such file; give a path or a space name")
        return SearchSpace.load(name)
    return get_space(name)


def _check_counts(args: argparse.Namespace) -> None:
    for flag, value in (("--trials", args.trials), ("--jobs", args.jobs), ("--batch", args.batch)):
        if value is not None and value < 1:
            raise PCSearchError(f"{flag} {value} must be at least 1")
    if args.epochs is not None and args.epochs < 1:
        raise PCSearchError(f"--epochs {args.epochs} must be at least 1")


def run(args: argparse.Namespace) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _check_counts(args)
    name = check_study_name(args.study or f"{args.task}.{args.algorithm}")
    space = resolve_space(args.space, args.task, args.algorithm)
    config = StudyConfig(
        task=args.task,
        algorithm=args.algorithm,
        space=space.to_dict(),
        n_trials=args.trials,
        sampler=args.sampler or ("grid" if space.kind == "grid" else "tpe"),
        pruner=args.pruner,
        seed=args.seed,
        overrides={"epochs": args.epochs} if args.epochs else {},
        batch=args.batch,
        data_dir=args.data_dir,
    )
    url = storage_url(args.storage, default=DEFAULT_STORAGE)
    storage = open_storage(url)
    study = studies.create_or_resume(storage, name, config)
    watch = StaleWatch()
    if _reap(study, url, watch):
        print("queued again the trials of workers that died in an earlier run", file=sys.stderr)
    jobs = args.jobs or default_jobs()
    log_dir = _log_dir(url, name)
    print(
        f"study {name!r} in {redact(url)}: {args.trials} trials of {args.task} / "
        f"{args.algorithm}, space {space.ref}, {jobs} worker(s); logs in {log_dir}",
        file=sys.stderr,
    )
    processes = start_workers(url, name, jobs, args.seed, log_dir, args.batch)
    display = Progress(storage, name, args.trials)
    previous = signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        while [p for p in processes if p.poll() is None]:  # polls each (reaps the dead)
            display.show()
            _reap(study, url, watch)
            time.sleep(REAP_EVERY)
    except (KeyboardInterrupt, Stopped) as interruption:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(processes)
        _reap(study, url, watch)
        display.show(final=True)
        print(
            f"\ninterrupted; run the same command again to resume study {name!r}", file=sys.stderr
        )
        return 130 if isinstance(interruption, KeyboardInterrupt) else 143
    finally:
        signal.signal(signal.SIGTERM, previous)
    _reap(study, url, watch)
    display.show(final=True)
    print(report(storage, name, url), flush=True)
    gave_up = studies.failing_workers(study.user_attrs)
    for worker, info in gave_up.items():
        print(f"worker {worker} gave up: {info.get('reason')}", file=sys.stderr)
    bad = [p.returncode for p in processes if p.returncode]
    if bad:
        print(f"{len(bad)} worker(s) ended abnormally; see {log_dir}", file=sys.stderr)
    counts = views.trial_counts(storage, name)
    finished = counts.complete + counts.pruned
    if finished < args.trials:
        print(f"the study has {finished} of its {args.trials} trials", file=sys.stderr)
        return 1
    return 0


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


def _reap(study: optuna.Study, url: str, watch: StaleWatch) -> list[int]:
    """Queue again the trials of dead local workers, so the study finishes in this run."""
    with slot_lock(url, study.study_name):
        return reap(study, watch)


def _log_dir(url: str, study: str) -> Path:
    path = journal_path(url)
    base = path.parent if path is not None else Path.cwd()
    return base / "pcsearch-logs" / study


class Progress:
    """Trials done, running, queued, pruned and failed, best so far, and an ETA; read
    through the same view of a study as the HTTP API's."""

    def __init__(self, storage: optuna.storages.BaseStorage, name: str, n_trials: int) -> None:
        self.storage, self.name, self.n_trials = storage, name, n_trials
        self.start = time.monotonic()
        counts = views.trial_counts(storage, name)
        self.done_at_start = counts.complete + counts.pruned
        self.tty = sys.stderr.isatty()
        self.last = self.last_state = ""

    def show(self, final: bool = False) -> None:
        study = views.get_study(self.storage, self.name)
        n = study.trials
        done = n.complete + n.pruned
        best = "-" if study.best_value is None else f"{study.best_value:.4f}"
        new = done - self.done_at_start
        elapsed = time.monotonic() - self.start
        eta = "-"
        if new > 0 and done < self.n_trials:
            eta = f"{elapsed / new * (self.n_trials - done):.0f}s"
        queued = f", queued {n.waiting}" if n.waiting else ""
        state = (
            f"trials {done}/{self.n_trials} done (complete {n.complete}, pruned {n.pruned}), "
            f"running {n.running}{queued}, failed {n.fail} | best {best}"
        )
        line = f"{state} | {elapsed:.0f}s, ETA {eta}"
        if self.tty:
            sys.stderr.write("\r" + line.ljust(len(self.last)) + ("\n" if final else ""))
        elif state != self.last_state:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.last, self.last_state = line, state


def report(storage: optuna.storages.BaseStorage, name: str, url: str) -> str:
    best = views.get_study(storage, name).best_trial
    if best is None:
        return f"no completed trial yet\ndashboard: {dashboard_command(url)}"
    lines = [f"best value: {best.value:.4f} (trial {best.number})", "best parameters:"]
    lines += [
        f"  {k} = {v:.6g}" if isinstance(v, float) else f"  {k} = {v}"
        for k, v in best.params.items()
    ]
    lines.append(f"dashboard: {dashboard_command(url)}")
    return "\n".join(lines)


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("search", help="run a hyperparameter search (no server needed)")
    p.add_argument("--task", required=True)
    p.add_argument("--algorithm", required=True)
    p.add_argument("--trials", type=int, required=True, help="trials to finish, in total")
    p.add_argument("--space", help="a space name (see `pcsearch spaces`) or a .json/.yaml file")
    p.add_argument(
        "--storage",
        help=f"a .journal file or postgresql+psycopg2://... (default: $PCSEARCH_DATABASE_URL, "
        f"else {DEFAULT_STORAGE})",
    )
    p.add_argument("--study", help="study name (default TASK.ALGORITHM); same name resumes")
    p.add_argument("--jobs", type=int, help="local worker processes (default: per core or GPU)")
    p.add_argument("--sampler", choices=SAMPLERS, help="default tpe (grid for grid spaces)")
    p.add_argument("--pruner", choices=PRUNERS, default="median")
    p.add_argument("--epochs", type=int, help="epochs per trial (default: the task's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=1, help="train K trials together per worker")
    p.add_argument("--data-dir", help="folder holding <dataset>/ files")
    p.set_defaults(handler=run)

"""``pcsearch search``: a real search with no server, on local worker processes."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import optuna

from pcsearch.errors import PCSearchError
from pcsearch.training.epoch_loop import EPOCH_LOOP_CHOICES, EPOCH_LOOP_HELP
from pcsearch_cli.run_flags import add_data_dir, add_max_batches, add_synthetic
from search_spaces import SearchSpace, default_space, get_space
from store import studies, views
from store.config import (
    OBJECTIVES,
    PRUNERS,
    SAMPLERS,
    StudyConfig,
    check_study_name,
    default_sampler,
)
from store.leases import StaleWatch, reap
from store.storage import (
    DEFAULT_STORAGE,
    dashboard_command,
    journal_path,
    open_storage,
    redact,
    slot_lock,
    storage_url,
)
from workers.local import default_jobs, start_workers, stop_all

REAP_EVERY = 1.0


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
        sampler=args.sampler or default_sampler(space),
        pruner=args.pruner,
        seed=args.seed,
        overrides={"epochs": args.epochs} if args.epochs else {},
        batch=args.batch,
        data_dir=args.data_dir,
        objective=args.objective,
        energy_trace=args.energy_trace,
        synthetic=args.synthetic,
        max_batches=args.max_batches,
        epoch_loop=args.epoch_loop,
        warm_start=args.warm_start,
    )
    url = storage_url(args.storage, default=DEFAULT_STORAGE)
    storage = open_storage(url)
    study = studies.create_or_resume(storage, name, config)
    return run_locally(storage, url, study, config, args.jobs)


def run_locally(
    storage: optuna.storages.BaseStorage,
    url: str,
    study: optuna.Study,
    config: StudyConfig,
    jobs: int | None,
    seed: int | None = None,
) -> int:
    """Local worker processes on one study until it has its trials (or a Ctrl-C); shows
    progress, prints the best trial, and returns the exit code. The study's seed makes
    its workers' sampler streams; ``seed`` is an extra salt for them, if given."""
    name = study.study_name
    watch = StaleWatch()
    if _reap(study, url, watch):
        print("queued again the trials of workers that died in an earlier run", file=sys.stderr)
    jobs = jobs or default_jobs()
    log_dir = _log_dir(url, name)
    print(
        f"study {name!r} in {redact(url)}: {config.n_trials} trials of {config.task} / "
        f"{config.algorithm}, space {config.search_space().ref}, {jobs} worker(s); "
        f"logs in {log_dir}",
        file=sys.stderr,
    )
    processes = start_workers(url, name, jobs, seed, log_dir, config.batch)
    display = Progress(storage, name, config.n_trials)
    interrupted = supervise(processes, display, lambda: _reap(study, url, watch))
    if interrupted:
        stop_all(processes)
        _reap(study, url, watch)
        display.show(final=True)
        print(
            f"\ninterrupted; run the same command again to resume study {name!r}", file=sys.stderr
        )
        return 130 if interrupted == "SIGINT" else 143
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
    if finished < config.n_trials:
        print(f"the study has {finished} of its {config.n_trials} trials", file=sys.stderr)
        return 1
    return 0


def supervise(processes: list, display: Progress, reap_dead: Callable[[], object]) -> str | None:
    """Show progress and reap dead workers until every worker has exited; the name of the
    signal (SIGINT or SIGTERM) that cut it short, else None.

    A signal only sets a flag: an exception raised into the middle of a storage call could
    cut off a write that the workers, which got the same Ctrl-C and are giving their trials
    back, read next. Once a signal came, later ones are ignored so that
    clean-up is not cut short either.
    """
    received: list[str] = []

    def note(signum: int, frame: object) -> None:
        received.append(signal.Signals(signum).name)
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not received and [p for p in processes if p.poll() is None]:  # reaps the dead
            display.show()
            reap_dead()
            _sleep_unless(received, REAP_EVERY)
    finally:
        if not received:
            for s, handler in previous.items():
                signal.signal(s, handler)
    return received[0] if received else None


def _sleep_unless(received: list[str], seconds: float, tick: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while not received and time.monotonic() < deadline:
        time.sleep(tick)


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
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="the study's seed: with one worker, the same seed and study name give the same "
        "trials; every worker process draws from its own stream derived from it",
    )
    p.add_argument(
        "--no-warm-start",
        dest="warm_start",
        action="store_false",
        help="do not start with a trial of the paper's best values (default: a new study's "
        "first trial runs them, where the paper gives them)",
    )
    p.add_argument("--batch", type=int, default=1, help="train K trials together per worker")
    add_data_dir(p)
    add_study_options(p)
    p.set_defaults(handler=run)


def add_study_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--objective",
        choices=OBJECTIVES,
        default="best",
        help="a trial's value: its best epoch's metric (the paper's, default) or its last's",
    )
    p.add_argument(
        "--energy-trace",
        action="store_true",
        help="store each trial's energy per layer and inference step after training (PC)",
    )
    add_synthetic(p, what="timing, smoke runs; marked on each trial")
    add_max_batches(p)
    p.add_argument("--epoch-loop", choices=EPOCH_LOOP_CHOICES, default="auto", help=EPOCH_LOOP_HELP)

"""``pcsearch search``: a real search with no server, on local worker processes."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from pcsearch.errors import PCSearchError
from search_spaces import SearchSpace, default_space, get_space
from workers.config import PRUNERS, SAMPLERS, StudyConfig
from workers.local import default_jobs, start_workers
from workers.storage import DEFAULT_STORAGE, dashboard_command, journal_path
from workers.study import create_or_resume, fail_orphaned_trials


def resolve_space(name: str | None, task: str, algorithm: str) -> SearchSpace:
    if name is None:
        return default_space(task, algorithm)
    if Path(name).suffix in (".json", ".yaml", ".yml"):
        if not Path(name).exists():
            raise PCSearchError(f"--space {name!r}: no such file; give a path or a space name")
        return SearchSpace.load(name)
    return get_space(name)


def run(args: argparse.Namespace) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = resolve_space(args.space, args.task, args.algorithm)
    overrides = {"epochs": args.epochs} if args.epochs else {}
    sampler = args.sampler or ("grid" if space.kind == "grid" else "tpe")
    config = StudyConfig(
        task=args.task,
        algorithm=args.algorithm,
        space=space.to_dict(),
        n_trials=args.trials,
        sampler=sampler,
        pruner=args.pruner,
        seed=args.seed,
        overrides=overrides,
        batch=args.batch,
        data_dir=args.data_dir,
    )
    name = args.study or f"{args.task}.{args.algorithm}"
    study = create_or_resume(args.storage, name, config)
    if fail_orphaned_trials(study):
        print("marked trials of dead workers from an earlier run as failed", file=sys.stderr)
    jobs = args.jobs or default_jobs()
    log_dir = _log_dir(args.storage, name)
    print(
        f"study {name!r} in {args.storage}: {args.trials} trials of {args.task} / "
        f"{args.algorithm}, space {space.ref}, {jobs} worker(s); logs in {log_dir}",
        file=sys.stderr,
    )
    processes = start_workers(args.storage, name, jobs, args.seed, log_dir, args.batch)
    display = Progress(study, args.trials)
    try:
        while any(p.poll() is None for p in processes):
            display.show()
            time.sleep(1.0)
    except KeyboardInterrupt:
        for p in processes:
            p.wait()
        fail_orphaned_trials(study)
        display.show(final=True)
        print(
            f"\ninterrupted; run the same command again to resume study {name!r}", file=sys.stderr
        )
        return 130
    display.show(final=True)
    fail_orphaned_trials(study)
    bad = [p.returncode for p in processes if p.returncode]
    print(report(study, args.storage), flush=True)
    if bad:
        print(f"{len(bad)} worker(s) exited with errors; see {log_dir}", file=sys.stderr)
        return 1
    return 0


def _log_dir(url: str, study: str) -> Path:
    path = journal_path(url)
    base = path.parent if path is not None else Path.cwd()
    return base / "pcsearch-logs" / study


class Progress:
    """Trials done, running, pruned and failed, best so far, and an ETA."""

    def __init__(self, study: optuna.Study, n_trials: int) -> None:
        self.study, self.n_trials, self.start = study, n_trials, time.monotonic()
        self.done_at_start = self._counts()[0]
        self.tty = sys.stderr.isatty()
        self.last = self.last_state = ""

    def _counts(self) -> tuple[int, int, int, int, int]:
        trials = self.study.get_trials(deepcopy=False)
        n = lambda s: sum(t.state == s for t in trials)
        complete, pruned = n(TrialState.COMPLETE), n(TrialState.PRUNED)
        return complete + pruned, complete, n(TrialState.RUNNING), pruned, n(TrialState.FAIL)

    def show(self, final: bool = False) -> None:
        done, complete, running, pruned, failed = self._counts()
        best = "-"
        if complete:
            best = f"{self.study.best_value:.4f}"
        new = done - self.done_at_start
        elapsed = time.monotonic() - self.start
        eta = "-"
        if new > 0 and done < self.n_trials:
            eta = f"{elapsed / new * (self.n_trials - done):.0f}s"
        state = (
            f"trials {done}/{self.n_trials} done (complete {complete}, pruned {pruned}), "
            f"running {running}, failed {failed} | best {best}"
        )
        line = f"{state} | {elapsed:.0f}s, ETA {eta}"
        if self.tty:
            sys.stderr.write("\r" + line.ljust(len(self.last)) + ("\n" if final else ""))
        elif state != self.last_state:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.last, self.last_state = line, state


def report(study: optuna.Study, url: str) -> str:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return f"no completed trial yet\ndashboard: {dashboard_command(url)}"
    best = study.best_trial
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
        default=DEFAULT_STORAGE,
        help=f"a .journal file (default {DEFAULT_STORAGE}) or postgresql+psycopg2://",
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

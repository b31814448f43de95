"""``pcsearch worker``: the service's worker (and the embedded search's).

With several GPUs visible it supervises one worker process per GPU, restarting any that
dies or hangs; otherwise it is that worker itself, which ends itself when it hangs.
``--health`` says whether the workers here make progress (a container's healthcheck), and
``PCSEARCH_WORKER_LOCK`` keeps to one worker per machine.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pcsearch.errors import PCSearchError
from store.config import check_study_name

GIVE_UP_EXIT = 1


def run(args: argparse.Namespace) -> int:
    if args.health:
        return _health()
    from store.storage import open_storage, storage_url
    from workers.local import gpu_ids, supervise, worker_command, worker_env
    from workers.logs import configure_logging

    _check(args)
    _hold_machine_lock()
    url = storage_url(args.storage)
    configure_logging(url, logging.WARNING if args.quiet else logging.INFO)
    procs = args.procs or max(1, len(gpu_ids()))
    if procs > 1:
        open_storage(url, worker=True)  # bad input fails here, once, not in every child
        child_args = _child_args(args)
        return supervise(
            [
                (worker_command(*child_args, "--child-index", str(i)), worker_env(i, False, url))
                for i in range(procs)
            ],
            restart_pause=args.restart_pause,
        )
    return _work(url, args)


def _health() -> int:
    """Exit 0 when a worker runs here and none is stale, else 1 with one line: quick (no
    storage, no JAX), for a container's healthcheck."""
    from store.settings import settings
    from workers.liveness import health, state_dir

    healthy, line = health(state_dir(), settings().worker_stale_seconds)
    print(f"pcsearch worker: {line}", file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


def _hold_machine_lock() -> None:
    """``PCSEARCH_WORKER_LOCK``: one worker (this top process) per machine; the children
    it starts are not given the variable."""
    from store.settings import settings
    from workers.machine_lock import hold

    path = settings().worker_lock
    if path is not None:
        hold(path)


def _check(args: argparse.Namespace) -> None:
    from store.settings import settings

    if args.until_done and not args.study:
        raise PCSearchError("--until-done needs --study NAME (a service worker never ends)")
    for flag, value in (("--procs", args.procs), ("--batch", args.batch)):
        if value is not None and value < 1:
            raise PCSearchError(f"{flag} {value} must be at least 1")
    if args.poll <= 0 or args.restart_pause < 0:
        raise PCSearchError("--poll must be positive and --restart-pause not negative")
    stale = settings().worker_stale_seconds
    if args.poll >= stale:  # an idle worker shows it is alive each time it looks for work
        raise PCSearchError(
            f"--poll {args.poll:g} must be below PCSEARCH_WORKER_STALE_SECONDS={stale:g}: "
            f"a worker idle that long counts as hung"
        )
    if args.study:
        check_study_name(args.study)


def _child_args(args: argparse.Namespace) -> list[str]:
    out = ["--procs", "1", "--poll", str(args.poll)]
    if args.seed is not None:  # a salt: each child still registers for a stream of its own
        out += ["--seed", str(args.seed)]
    if args.study:
        out += ["--study", args.study]
    if args.until_done:
        out.append("--until-done")
    if args.quiet:
        out.append("--quiet")
    if args.batch:
        out += ["--batch", str(args.batch)]
    return out


def _work(url: str, args: argparse.Namespace) -> int:
    from workers import liveness

    liveness.start(args.child_index)
    try:
        return _serve(url, args)
    finally:
        liveness.stop()


def _serve(url: str, args: argparse.Namespace) -> int:
    from store.settings import settings
    from workers import liveness
    from workers.hang_watchdog import install_hang_watchdog
    from workers.loop import GaveUp, StudyStopped, Worker
    from workers.signals import install_stop_watchdog

    worker = Worker(url, seed=args.seed, batch=args.batch, poll=args.poll)
    liveness.beat()  # connected: the wait for the database counts for nothing below

    def stop(reason: str) -> None:
        worker.stop(reason)
        liveness.stop()  # the process ends next, without unwinding to _work's finally

    install_stop_watchdog(stop)
    if args.child_index is None:  # a child's parent watches it
        install_hang_watchdog(stop, settings().worker_stale_seconds)
    worker.heartbeat.start()
    worker.announce(args.study)
    try:
        if args.study:
            while True:
                worker.run_study(args.study, until_done=args.until_done)
                if args.until_done or worker.stopping.is_set():
                    return 0
                worker.stopping.wait(args.poll)
        worker.serve()
    except GaveUp as error:
        print(f"pcsearch worker: {error}", file=sys.stderr)
        return GIVE_UP_EXIT
    except StudyStopped as error:
        print(f"pcsearch worker: {error}", file=sys.stderr)
        return 0
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("worker", help="take trials from studies in a storage and run them")
    p.add_argument(
        "--storage",
        help="postgresql+psycopg2://..., FILE.journal (default: $PCSEARCH_DATABASE_URL)",
    )
    p.add_argument("--study", help="work on this study only (default: every pcsearch study)")
    p.add_argument(
        "--until-done",
        action="store_true",
        help="exit once the study has all its trials (with --study)",
    )
    p.add_argument("--batch", type=int, help="train K trials together (overrides the study)")
    p.add_argument(
        "--seed",
        type=int,
        help="an extra salt for this worker's sampler streams (default none: each worker "
        "process already draws from its own stream, derived from the study's seed)",
    )
    p.add_argument("--poll", type=float, default=5.0, help="seconds between looks for work")
    p.add_argument(
        "--procs",
        type=int,
        help="worker processes (default: one per visible GPU, else one)",
    )
    p.add_argument(
        "--restart-pause",
        type=float,
        default=10.0,
        help="seconds before a crashed worker process is started again (with --procs > 1)",
    )
    p.add_argument(
        "--health",
        action="store_true",
        help="exit 0 when a worker runs here and made progress within "
        "PCSEARCH_WORKER_STALE_SECONDS, else 1 with one line (a container's healthcheck)",
    )
    p.add_argument("--child-index", type=int, help=argparse.SUPPRESS)  # set by the parent
    p.add_argument(
        "--quiet",
        action="store_true",
        help="log warnings and errors only (default: also a line when ready and per trial)",
    )
    p.set_defaults(handler=run)

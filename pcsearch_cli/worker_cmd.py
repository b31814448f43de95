"""``pcsearch worker``: the service's worker (and the embedded search's).

With several GPUs visible it supervises one worker process per GPU, restarting any that
dies; otherwise it is that worker itself.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pcsearch.errors import PCSearchError
from store.config import check_study_name

GIVE_UP_EXIT = 1


def run(args: argparse.Namespace) -> int:
    from store.storage import open_storage, storage_url
    from workers.local import gpu_ids, supervise, worker_command, worker_env
    from workers.logs import configure_logging

    _check(args)
    url = storage_url(args.storage)
    configure_logging(url, logging.WARNING if args.quiet else logging.INFO)
    procs = args.procs or max(1, len(gpu_ids()))
    if procs > 1:
        open_storage(url, worker=True)  # bad input fails here, once, not in every child
        child_args = _child_args(args)
        return supervise(
            [(worker_command(*child_args), worker_env(i, False, url)) for i in range(procs)],
            restart_pause=args.restart_pause,
        )
    return _work(url, args)


def _check(args: argparse.Namespace) -> None:
    if args.until_done and not args.study:
        raise PCSearchError("--until-done needs --study NAME (a service worker never ends)")
    for flag, value in (("--procs", args.procs), ("--batch", args.batch)):
        if value is not None and value < 1:
            raise PCSearchError(f"{flag} {value} must be at least 1")
    if args.poll <= 0 or args.restart_pause < 0:
        raise PCSearchError("--poll must be positive and --restart-pause not negative")
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
    from workers.loop import GaveUp, StudyStopped, Worker
    from workers.signals import install_stop_watchdog

    worker = Worker(url, seed=args.seed, batch=args.batch, poll=args.poll)
    install_stop_watchdog(worker.stop)
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
        "--quiet",
        action="store_true",
        help="log warnings and errors only (default: also a line when ready and per trial)",
    )
    p.set_defaults(handler=run)

"""``pcsearch worker``: one worker process (the service's and the embedded search's)."""

from __future__ import annotations

import argparse
import logging
import sys


def run(args: argparse.Namespace) -> int:
    from workers.loop import Shutdown, install_signal_handlers, run_study, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    install_signal_handlers()
    try:
        if args.study:
            while True:
                run_study(args.storage, args.study, seed=args.seed, batch=args.batch)
                if args.until_done:
                    return 0
                import time

                time.sleep(args.poll)
        serve(args.storage, seed=args.seed, batch=args.batch, poll=args.poll)
    except Shutdown as signal_name:
        print(f"worker stopped by {signal_name}", file=sys.stderr)
        return 0
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("worker", help="take trials from studies in a storage and run them")
    p.add_argument("--storage", required=True, help="postgresql+psycopg2://..., FILE.journal")
    p.add_argument("--study", help="work on this study only (default: every pcsearch study)")
    p.add_argument(
        "--until-done",
        action="store_true",
        help="exit once the study has all its trials (with --study)",
    )
    p.add_argument("--batch", type=int, help="train K trials together (overrides the study)")
    p.add_argument("--seed", type=int, default=0, help="this worker's sampler seed")
    p.add_argument("--poll", type=float, default=5.0, help="seconds between looks for work")
    p.set_defaults(handler=run)

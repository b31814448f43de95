"""``pcsearch rerun``: the paper's protocol, a configuration trained again on N seeds.

The configuration is a study's best trial (``--study``) or a task's defaults, which are the
paper's best values where it gives them (``--task/--algorithm``). The seeds run as a study
of their own (``<name>.seeds``) through the same workers as a search: local processes
here, or the service's fleet with ``--no-workers``.
"""

from __future__ import annotations

import argparse
import sys

import optuna

from pcsearch.errors import PCSearchError
from pcsearch_cli.main import parse_assignments
from pcsearch_cli.run_flags import add_run_flags
from store import reruns, studies
from store.config import StudyConfig, check_study_name
from store.report_data import seed_cells
from store.storage import DEFAULT_STORAGE, open_storage, storage_url

PAPER_SEEDS, PAPER_KEEP = 7, 5


def run(args: argparse.Namespace) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seeds = _seeds(args)
    keep = args.keep_best if args.keep_best is not None else min(PAPER_KEEP, len(seeds))
    if not 1 <= keep <= len(seeds):
        raise PCSearchError(f"--keep-best {keep} must be between 1 and the number of seeds")
    url = storage_url(args.storage, default=DEFAULT_STORAGE)
    storage = open_storage(url, must_exist=bool(args.study))  # --study reads it first
    overrides = parse_assignments(args.set)
    if args.epochs:
        overrides["epochs"] = args.epochs
    if args.study:
        if args.task or args.algorithm:
            raise PCSearchError("give either --study or --task with --algorithm, not both")
        source, params = reruns.best_params(storage, args.study)
        task, algorithm, origin = source.task, source.algorithm, f"best trial of {args.study!r}"
        data_dir = args.data_dir or source.data_dir
        name = args.name or reruns.rerun_name(args.study)
    else:
        if not (args.task and args.algorithm):
            raise PCSearchError("give --study NAME, or --task and --algorithm (paper defaults)")
        task, algorithm, params = args.task, args.algorithm, {}
        origin, data_dir = f"defaults of {task} / {algorithm}", args.data_dir
        name = args.name or reruns.rerun_name(f"{task}.{algorithm}")
    config = reruns.rerun_config(
        task,
        algorithm,
        {**params, **overrides},
        seeds,
        keep_best=keep,
        source=origin,
        rerun_of=args.study,
        data_dir=data_dir,
        energy_trace=args.energy_trace,
    )
    study = studies.create_or_resume(storage, check_study_name(name), config)
    print(f"rerun {name!r}: {origin} on seeds {seeds}, keeping the best {keep}", file=sys.stderr)
    if args.no_workers:
        print(f"study {name!r} is queued for the workers of {url.split('://')[0]}", file=sys.stderr)
        return 0
    from pcsearch_cli.search_cmd import run_locally

    code = run_locally(storage, url, study, config, args.jobs, seed=0)
    print(summary_line(study, config))
    return code


def _seeds(args: argparse.Namespace) -> list[int]:
    if args.seed_list:
        try:
            seeds = [int(s) for s in args.seed_list.split(",") if s.strip()]
        except ValueError:
            raise PCSearchError(
                f"--seed-list {args.seed_list!r} is not a comma-separated list of integers; "
                "write e.g. --seed-list 0,1,2"
            ) from None
    else:
        if args.seeds < 1:
            raise PCSearchError(f"--seeds {args.seeds} must be at least 1")
        seeds = list(range(args.seeds))
    if not seeds or len(set(seeds)) != len(seeds):
        raise PCSearchError(f"--seed-list {args.seed_list!r} must hold distinct integers")
    return seeds


def summary_line(study: optuna.Study, config: StudyConfig) -> str:
    """The seeds' summary, as ``pcsearch report`` makes its cell."""
    try:
        cell = seed_cells(study.study_name, config, study.get_trials(deepcopy=False))[0]
    except ValueError as error:
        return f"no summary: {error}"
    s = cell.summary
    kept = f"best {s.n} of {s.total} seeds" if s.keep_best else f"all {s.n} seeds"
    return f"{cell.metric}: {s.mean:.4f} ± {s.std:.4f} ({kept}; population std)"


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "rerun", help="train a configuration again on N seeds (the paper's protocol)"
    )
    p.add_argument("--study", help="rerun this study's best trial")
    p.add_argument("--task", help="or rerun a task's defaults (the paper's best values)")
    p.add_argument("--algorithm")
    p.add_argument("--seeds", type=int, default=PAPER_SEEDS, help="seeds 0..N-1 (default 7)")
    p.add_argument("--seed-list", help="explicit seeds, e.g. 0,1,2 (instead of --seeds)")
    p.add_argument(
        "--keep-best",
        type=int,
        help="report the mean and std of the best K seeds (default 5, as the paper)",
    )
    p.add_argument("--name", help="rerun study name (default: <study>.seeds)")
    p.add_argument("--storage", help=f"as for `pcsearch search` (default {DEFAULT_STORAGE})")
    p.add_argument("--jobs", type=int, help="local worker processes (default: per core or GPU)")
    p.add_argument(
        "--no-workers",
        action="store_true",
        help="only queue the seeds; the service's workers (or `pcsearch worker`) run them",
    )
    p.add_argument("--epochs", type=int, help="epochs per run (default: the configuration's)")
    add_run_flags(p)
    p.add_argument("--energy-trace", action="store_true", help="store energies per step (PC)")
    p.set_defaults(handler=run)

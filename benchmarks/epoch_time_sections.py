"""``epoch_time.py``'s two sections: one setting's runners, and the compile-reuse check."""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from benchmarks.epoch_time_peer import measure_peer, write_digits_npz, write_synthetic_npz
from benchmarks.epoch_time_report import (
    Row,
    format_number,
    format_paper,
    format_ratios,
    format_table,
    ratio,
    summarise,
)
from benchmarks.epoch_time_runs import Measured, RunFailed, measure_pcsearch, run_pcsearch
from benchmarks.epoch_time_settings import (
    BP,
    PC,
    PEER,
    REUSE_VALUES,
    SAME_JAX,
    Setting,
    batched_runner,
    loop_runner,
)


def run_setting(
    setting: Setting,
    args: argparse.Namespace,
    peer_python: Path | None,
    peer_info: dict | None,
    cache_root: Path,
    scratch: Path,
) -> None:
    """Every runner on one setting, repeats interleaved, then the table, ratios and paper."""
    print(f"\n=== Setting {setting.title}, {setting.epochs} epochs, repeats {args.repeats} ===")
    data_dir = Path(args.data_dir)
    if setting.dataset == "mnist" and not (data_dir / "mnist").is_dir():
        print(f"skipped: no mnist/ folder under {data_dir} (pass --data-dir)")
        return
    peer_data = ["--data-dir", str(data_dir)]
    npz = None
    if setting.synthetic:
        # The peer trains on the very arrays pcsearch makes; the same-JAX run makes its own.
        peer_data = ["--npz", str(write_synthetic_npz(scratch, setting))]
    elif setting.dataset == "digits":
        has_sklearn = peer_info is not None and peer_info.get("sklearn")
        npz = None if has_sklearn else write_digits_npz(scratch)
        peer_data = ["--dataset", "digits"] if npz is None else ["--npz", str(npz)]
    loops = {loop_runner(loop): loop for loop in (args.loops if setting.conv else ["auto"])}
    loops.setdefault(PC, "auto")
    batched = batched_runner(args.members) if setting.conv and args.members > 1 else None
    runners = [PC, *[r for r in loops if r != PC], *([batched] if batched else []), BP]
    if peer_python is not None and not setting.peer:
        runners.append(PEER)
        if args.same_jax:
            runners.append(SAME_JAX)
    measured: dict[str, list[Measured]] = {r: [] for r in runners}
    failures: dict[str, str] = {}
    for repeat in range(args.repeats):
        for runner in runners:
            if runner in failures:
                continue
            cache = cache_root / f"{setting.key}-{runner.replace(' ', '-')}-{repeat}"
            try:
                if runner == PEER:
                    assert peer_python is not None
                    m = measure_peer(peer_python, setting, peer_data, args.seed, args.timeout)
                elif runner == SAME_JAX:
                    m = measure_pcsearch(
                        setting,
                        setting.pc_algorithm,
                        data_dir,
                        cache,
                        args.seed,
                        args.timeout,
                        peer_python,
                        npz,
                    )
                else:
                    algorithm = setting.algorithms[1] if runner == BP else setting.algorithms[0]
                    loop = loops.get(runner, "auto")
                    m = measure_pcsearch(
                        setting,
                        algorithm,
                        data_dir,
                        cache,
                        args.seed,
                        args.timeout,
                        epoch_loop=loop,
                        members=args.members if runner == batched else 1,
                    )
            except RunFailed as err:
                failures[runner] = str(err)
                print(f"{runner} failed: {err}")
                continue
            measured[runner].append(m)
            accs = ", ".join(format_number(a, ".4f") for a in m.accuracy)
            times = ", ".join(f"{s:.4f}" for s in m.epoch_seconds)
            chosen = m.info.get("epoch_loop")
            via = f" (epoch loop {chosen})" if chosen and runner not in (PEER, BP) else ""
            print(
                f"  {runner} [repeat {repeat + 1}]{via} epoch s: {times}; test acc: {accs}",
                flush=True,
            )
    rows: dict[str, Row] = {}
    for runner in (*[r for r in runners if r not in (PEER, SAME_JAX)], PEER, SAME_JAX):
        if measured.get(runner):
            rows[runner] = summarise(runner, measured[runner])
        elif runner in failures:
            rows[runner] = Row(runner, *([None] * 7), note="failed")
        elif runner == PEER:
            why = setting.peer or "peer unavailable"
            rows[runner] = Row(runner, *([None] * 7), note=why)
    print()
    print(format_table(list(rows.values())))
    if SAME_JAX in rows and peer_info is not None:
        print(
            f"({SAME_JAX}: this checkout's pcsearch run by the peer's interpreter, i.e. on "
            f"jax {peer_info.get('jax')} like pcx; it separates design from JAX version)"
        )
    print(format_ratios(setting, rows))
    paper = format_paper(setting, rows)
    if paper:
        print(paper)


def cache_entries(cache_dir: Path) -> int:
    """Files in the persistent compilation cache: new ones mean new compilations."""
    folder = cache_dir / "jax-compilation-cache"
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def run_compile_reuse(setting: Setting, args: argparse.Namespace, cache_root: Path) -> None:
    """Traced hyperparameters must not recompile, in-process or across processes."""
    print(
        f"\n=== Compile reuse, pcsearch PC on setting {setting.title}, {setting.epochs} epochs ==="
    )
    cache = cache_root / "reuse"
    base = setting.overrides("pc-se")
    runs = [base | REUSE_VALUES[0], base | REUSE_VALUES[1]]
    try:
        first, _ = run_pcsearch(
            setting.task, "pc-se", runs, Path(args.data_dir), cache, args.seed, args.timeout
        )
        before = cache_entries(cache)
        second, _ = run_pcsearch(
            setting.task,
            "pc-se",
            [base | REUSE_VALUES[2]],
            Path(args.data_dir),
            cache,
            args.seed,
            args.timeout,
        )
        after = cache_entries(cache)
    except RunFailed as err:
        print(f"compile-reuse check failed: {err}")
        return
    labelled = [
        ("process 1, run 1 (cold cache)", first["runs"][0], REUSE_VALUES[0]),
        ("process 1, run 2 (in-process)", first["runs"][1], REUSE_VALUES[1]),
        ("process 2, run 3 (disk cache)", second["runs"][0], REUSE_VALUES[2]),
    ]
    header = (
        f"{'run':<30} {'first epoch s':>13} {'steady s':>9} {'first/steady':>12} "
        f"{'first-steady s':>14}  traced values"
    )
    print(header)
    print("-" * len(header))
    for label, run, values in labelled:
        seconds = run["epoch_seconds"]
        steady = statistics.median(seconds[1:]) if len(seconds) > 1 else None
        shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
        extra = None if steady is None else seconds[0] - steady
        print(
            f"{label:<30} {seconds[0]:>13.4f} {format_number(steady, '.4f'):>9} "
            f"{format_number(ratio(seconds[0], steady), '.2f'):>12} "
            f"{format_number(extra, '.4f'):>14}  {shown}"
        )
    print(
        f"persistent cache files: {before} after process 1, {after} after process 2 "
        f"({'no new compilations' if after == before else f'{after - before} new entries'})"
    )
    cold, disk = first["runs"][0]["epoch_seconds"], second["runs"][0]["epoch_seconds"]
    if len(cold) > 1 and len(disk) > 1:
        cold_cost = cold[0] - statistics.median(cold[1:])
        disk_cost = disk[0] - statistics.median(disk[1:])
        fraction = ratio(disk_cost, cold_cost)
        share = format_number(None if fraction is None else 100 * fraction, ".0f")
        print(
            f"one-time cost of a new process on a warm cache: {disk_cost:.3f} s, {share}% of the "
            f"cold compile's {cold_cost:.3f} s (what remains is tracing and loading, not XLA)"
        )

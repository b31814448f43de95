"""``epoch_time.py``'s summaries and printed tables: rows, ratios, the paper, the machine."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass

from benchmarks.epoch_time_runs import Measured
from benchmarks.epoch_time_settings import BP, PC, PEER, SAME_JAX, Setting
from benchmarks.paper_table4 import PAPER_BATCH, PAPER_GPU, PAPER_TABLE4, TRAIN_SIZES


@dataclass
class Row:
    """One runner's line of the table, over all its repeats; ``note`` replaces the figures."""

    runner: str
    first: float | None
    steady: float | None
    steady_low: float | None
    steady_high: float | None
    accuracy: float | None
    peak_mb: float | None
    process: float | None
    note: str = ""


def summarise(runner: str, measured: list[Measured]) -> Row:
    """First epoch: median over repeats; steady: median of every later epoch of every repeat."""
    firsts = [m.epoch_seconds[0] for m in measured if m.epoch_seconds]
    later = [s for m in measured for s in m.epoch_seconds[1:]]
    accs = [m.accuracy[-1] for m in measured if m.accuracy and m.accuracy[-1] is not None]
    return Row(
        runner,
        statistics.median(firsts) if firsts else None,
        statistics.median(later) if later else None,
        min(later) if later else None,
        max(later) if later else None,
        statistics.median(accs) if accs else None,
        max(m.peak_rss_mb for m in measured),
        statistics.median(m.process_seconds for m in measured),
    )


def format_number(value: float | None, fmt: str) -> str:
    """A figure, or ``n/a`` where there is none."""
    return "n/a" if value is None else format(value, fmt)


def format_table(rows: list[Row]) -> str:
    header = (
        f"{'runner':<21} {'first epoch s':>13} {'steady s/epoch':>15} {'steady range':>17} "
        f"{'test acc':>9} {'peak MB':>8} {'process s':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        if r.note:
            lines.append(f"{r.runner:<21} {r.note}")
            continue
        spread = "n/a" if r.steady_low is None else f"{r.steady_low:.4f}-{r.steady_high:.4f}"
        acc = "n/a" if r.accuracy is None else f"{100 * r.accuracy:.2f}%"
        lines.append(
            f"{r.runner:<21} {format_number(r.first, '.3f'):>13} "
            f"{format_number(r.steady, '.4f'):>15} {spread:>17} {acc:>9} "
            f"{format_number(r.peak_mb, '.0f'):>8} {format_number(r.process, '.1f'):>9}"
        )
    return "\n".join(lines)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def verdict(value: float | None, target: float | None, at_least: bool) -> str:
    if value is None or target is None:
        return ""
    met = value >= target if at_least else value <= target
    sign = ">=" if at_least else "<="
    return f"  (target {sign} {target:g}: {'met' if met else 'MISSED'})"


def format_ratios(setting: Setting, rows: dict[str, Row]) -> str:
    pc, bp, peer, same = (rows.get(k) for k in (PC, BP, PEER, SAME_JAX))
    usable = lambda r: r is not None and not r.note
    lines = []

    def line(label: str, value: float | None, unit: str = "x", check: str = "") -> None:
        lines.append(f"{label + ':':<40} {format_number(value, '.2f')}{unit}{check}")

    if usable(peer) and usable(pc):
        speedup = ratio(peer.steady, pc.steady)
        target = setting.targets.get("speedup")
        line("pcx/pcsearch (PC), steady epoch", speedup, check=verdict(speedup, target, True))
        line("pcx/pcsearch (PC), first epoch", ratio(peer.first, pc.first))
    else:
        lines.append("pcx/pcsearch (PC): n/a (peer unavailable)")
    if usable(peer) and usable(same):
        line("pcx/pcsearch (PC), same jax, steady", ratio(peer.steady, same.steady))
    if usable(pc) and usable(same):
        line("pcsearch PC, peer jax/own jax, steady", ratio(same.steady, pc.steady))
    for name, row in rows.items():
        if name.startswith(PC + " ") and name != SAME_JAX and usable(row) and usable(pc):
            loop = name[len(PC) + 1 :]
            line(f"pcsearch PC {loop}/auto, steady epoch", ratio(row.steady, pc.steady))
            line(f"pcsearch PC {loop}/auto, first epoch", ratio(row.first, pc.first))
            if usable(peer):
                line(f"pcx/pcsearch (PC {loop}), steady", ratio(peer.steady, row.steady))
    if usable(pc) and usable(bp):
        pc_bp = ratio(pc.steady, bp.steady)
        target = setting.targets.get("pc_bp")
        line("pcsearch PC/BP, steady epoch", pc_bp, "", verdict(pc_bp, target, False))
    return "\n".join(lines)


def machine_lines(peer_info: dict | None) -> list[str]:
    import jax

    from benchmarks.machine import cpu_model

    cpu = cpu_model()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    device = jax.devices()[0]
    lines = [
        f"platform: {platform.platform()}  python {platform.python_version()}",
        f"cpu: {cpu}; {os.cpu_count()} cores ({usable} usable by this process)",
        f"pcsearch side: jax {jax.__version__}, device {device.platform}:{device.device_kind}",
    ]
    if peer_info is not None:
        lines.append(
            f"pcx side: pcx {peer_info.get('pcx')}, jax {peer_info.get('jax')}, "
            f"python {peer_info.get('python')}"
        )
    return lines


def batches_per_epoch(setting: Setting) -> int | None:
    """Training batches in one of the setting's epochs, where known without loading data."""
    if setting.max_batches is not None:
        return setting.max_batches
    size = TRAIN_SIZES.get(setting.dataset)
    return None if size is None else size // setting.batch_size


def format_paper(setting: Setting, rows: dict[str, Row]) -> str:
    """The paper's Table 4 figure beside ours, per batch (the epochs differ in length)."""
    if setting.paper is None:
        return ""
    paper = PAPER_TABLE4[setting.paper]
    batches = batches_per_epoch(setting)
    lines = [
        f"paper, Table 4 ({paper.label}: pcx, PC-SE/BP-SE, batch {PAPER_BATCH}, "
        f"{paper.batches} batches an epoch, on an {PAPER_GPU} GPU, not this machine):"
    ]
    for runner, kind in ((PC, "PC"), (BP, "BP")):
        row = rows.get(runner)
        ours = None if row is None or row.note or batches is None else row.steady
        per_batch = None if ours is None else 1000 * ours / batches
        lines.append(
            f"  {kind}: paper {paper.seconds(kind):.2f} s/epoch = "
            f"{1000 * paper.seconds(kind) / paper.batches:.2f} ms/batch; "
            f"{runner} here {format_number(per_batch, '.2f')} ms/batch "
            f"at batch {setting.batch_size}"
        )
    pc, bp = rows.get(PC), rows.get(BP)
    ours = None
    if pc is not None and bp is not None and not pc.note and not bp.note:
        ours = ratio(pc.steady, bp.steady)
    lines.append(
        f"  PC/BP: paper {paper.pc / paper.bp:.2f}, here {format_number(ours, '.2f')} "
        f"(paper, Song's library/pcx PC: {paper.pc_song / paper.pc:.2f})"
    )
    return "\n".join(lines)

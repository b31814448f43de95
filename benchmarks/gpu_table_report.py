"""``gpu_table.py``'s record: the device, the JSON, and the markdown table beside the paper's."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.gpu_table_settings import BATCHED_TASK, SETTINGS
from benchmarks.paper_table4 import PAPER_BATCH, PAPER_GPU, PAPER_TABLE4, TRAIN_SIZES


def format_number(value: float | None, fmt: str) -> str:
    """A figure, or ``n/a`` where there is none."""
    return "n/a" if value is None else format(value, fmt)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def describe_device() -> dict[str, str]:
    import jax

    devices = jax.devices()
    device = devices[0]
    return {
        "device": f"{device.platform}:{getattr(device, 'device_kind', 'unknown')}",
        "device_count": str(len(devices)),
        "devices": ", ".join(str(d) for d in devices),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "python": platform.python_version(),
        "host": platform.node(),
    }


@dataclass
class Report:
    """Everything measured so far; written out after each measurement, so none is lost."""

    info: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    batched: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def ratios(self) -> list[dict[str, Any]]:
        out = []
        for key in dict.fromkeys(r["setting"] for r in self.rows):
            pc = next(
                (r for r in self.rows if r["setting"] == key and r["runner"].endswith("PC")), None
            )
            bp = next(
                (r for r in self.rows if r["setting"] == key and r["runner"].endswith("BP")), None
            )
            if pc is None or bp is None:
                continue
            paper = PAPER_TABLE4[SETTINGS[key].paper]
            out.append(
                {
                    "setting": key,
                    "pc_over_bp": _ratio(pc["steady_epoch_s"], bp["steady_epoch_s"]),
                    "paper_pc_over_bp": paper.pc / paper.bp,
                    "paper_song_over_pc": paper.pc_song / paper.pc,
                }
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "info": self.info,
            "paper": {
                "gpu": PAPER_GPU,
                "batch_size": PAPER_BATCH,
                "table4": {k: vars(v) for k, v in PAPER_TABLE4.items()},
            },
            "rows": self.rows,
            "ratios": self.ratios(),
            "batched": self.batched,
            "notes": self.notes,
        }

    def markdown(self) -> str:
        info = self.info
        lines = [
            f"## pcsearch epoch time on {info['device']}",
            "",
            f"Device: {info['devices']} ({info['backend']}), jax {info['jax']}, "
            f"python {info['python']}. Synthetic data of each data set's shapes. "
            f"Paper: Table 4, pcx on an {PAPER_GPU} (another GPU than this one), "
            f"steady epochs of the real data set, batch {PAPER_BATCH}.",
            "",
            "| setting | task | runner | T | batches timed | first epoch s (compile) "
            "| steady s/epoch | ms/batch | est. full epoch s | paper s (A100) "
            "| paper ms/batch | paper/ours |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in self.rows:
            status = "" if r.get("status", "completed") == "completed" else f" [{r['status']}]"
            loop = f" [{r['epoch_loop']} loop]" if r.get("epoch_loop") else ""
            runner = f"{r['runner']} ({r['algorithm']}){loop}{status}"
            paper_s = f"{r['paper_s']:.2f}" + ("" if r["paper_comparable"] else " (not comparable)")
            lines.append(
                f"| {r['paper_row']} | {r['task']} | {runner} "
                f"| {r['T'] if r['T'] is not None else '-'} | {r['batches_measured']} "
                f"| {format_number(r['first_epoch_s'], '.3f')} "
                f"| {format_number(r['steady_epoch_s'], '.4f')} "
                f"| {format_number(r['ms_per_batch'], '.3f')} "
                f"| {format_number(r['est_full_epoch_s'], '.3f')} "
                f"| {paper_s} | {r['paper_ms_per_batch']:.3f} "
                f"| {format_number(r['paper_over_ours'], '.2f')} |"
            )
        ratios = self.ratios()
        if ratios:
            lines += [
                "",
                "| setting | PC/BP ours | PC/BP paper (pcx) | Song/pcx PC, paper |",
                "| --- | --- | --- | --- |",
            ]
            for q in ratios:
                lines.append(
                    f"| {PAPER_TABLE4[SETTINGS[q['setting']].paper].label} "
                    f"| {format_number(q['pc_over_bp'], '.2f')} | {q['paper_pc_over_bp']:.2f} "
                    f"| {q['paper_song_over_pc']:.2f} |"
                )
        if self.batched:
            base = next((b for b in self.batched if b["K"] == 1), None)
            lines += [
                "",
                f"Batched trials: {BATCHED_TASK} PC-SE, T={self.batched[0]['T']}, "
                f"{self.batched[0]['trial_epochs']}-epoch trials (epochs extrapolated to "
                f"{TRAIN_SIZES['mnist'] // self.batched[0]['batch_size']} batches), K "
                "configurations in one vmapped program (`train_batched`); compile excluded.",
                "",
                "| K | batches timed | first epoch s (compile) | steady s/epoch "
                "| est. full epoch s | trials/hour | vs K=1 |",
                "| --- | --- | --- | --- | --- | --- | --- |",
            ]
            for b in self.batched:
                speedup = _ratio(b["trials_per_hour"], base["trials_per_hour"] if base else None)
                lines.append(
                    f"| {b['K']} | {b['batches_measured']} "
                    f"| {format_number(b['first_epoch_s'], '.3f')} "
                    f"| {format_number(b['steady_epoch_s'], '.4f')} "
                    f"| {format_number(b['est_full_epoch_s'], '.3f')} "
                    f"| {format_number(b['trials_per_hour'], '.0f')} "
                    f"| {format_number(speedup, '.2f')}x |"
                )
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def write(self, out: Path | None) -> None:
        if out is None:
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        json_path = out if out.suffix == ".json" else out.with_suffix(out.suffix + ".json")
        json_path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        json_path.with_suffix(".md").write_text(self.markdown())

"""Epoch wall time: pcsearch PC, pcsearch BP and pcx 0.6.3 PC (the paper's own library).

Three settings: (a) the paper's MNIST setting (784-128-128-128-10, gelu, batch 128, T=8,
PC-SE), where compute dominates, (b) scikit-learn digits (64-64-64-10, batch 32, T=8),
where per-batch overhead dominates, and (c), run only when asked for (``--settings c``), VGG-5
of Table 5 on CIFAR-10-shaped synthetic data (PC-CE and BP-CE with the paper's VGG-5
CIFAR-10 values, T=8, the paper's crop and flip; batch 16 and 2 batches an epoch unless
``--batch-c``/``--batches-c`` say otherwise, so that two CPU cores get through it); the peer
trains the same VGG-5 built from pcx's own layers on the very same synthetic arrays. Where
the paper's Table 4 has a figure for a setting (on its GPU, an A100, not this machine) it
is printed beside ours, per batch. Every measured run is its own subprocess, so peak
memory is per run and no run inherits another's compiled programs; each pcsearch run gets
a fresh persistent compilation cache, so its first epoch honestly includes compilation.
pcx runs under the peer's interpreter (``--peer-python``) via ``benchmarks/pcx_peer.py``.

A last section checks compile reuse: two pcsearch runs in one process that differ only in
traced hyperparameters, then a new process with a third set on the same cache directory.

Usage::

    .venv/bin/python benchmarks/epoch_time.py --peer-python /path/to/pcx-venv/bin/python
    .venv/bin/python benchmarks/epoch_time.py --quick --settings b
    .venv/bin/python benchmarks/epoch_time.py --settings c [--batch-c 128 --batches-c 4]
    .venv/bin/python benchmarks/epoch_time.py --quick --settings c   # tiny VGG-5 smoke run
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script: make `benchmarks.machine` importable
PEER_SCRIPT = REPO / "benchmarks" / "pcx_peer.py"
DEFAULT_PEER_VENV = REPO / ".venv-pcx"
RESULT_PREFIX = "RESULT "
PEER_PACKAGES = ("pcx==0.6.3", "scikit-learn")
PC, BP, PEER = "pcsearch PC", "pcsearch BP", "pcx PC"
SAME_JAX = "pcsearch PC, peer jax"

# Traced hyperparameters for the compile-reuse check: three distinct sets, same structure.
REUSE_VALUES: tuple[dict[str, float], ...] = (
    {"state_lr": 0.01, "state_momentum": 0.5, "weight_lr": 1e-3, "weight_decay": 1e-4},
    {"state_lr": 0.02, "state_momentum": 0.7, "weight_lr": 5e-4, "weight_decay": 3e-4},
    {"state_lr": 0.005, "state_momentum": 0.3, "weight_lr": 2e-3, "weight_decay": 1e-5},
)


@dataclass(frozen=True)
class Setting:
    """One benchmark setting: a pcsearch task and the structure both libraries train."""

    key: str
    title: str
    task: str
    dataset: str
    hidden_width: int
    hidden_layers: int
    batch_size: int
    T: int | None
    """None: the paper's value for the task and algorithm (pcsearch resolves it)."""
    epochs: int
    targets: dict[str, float] = field(default_factory=dict)
    """Issue targets: minimum pcx/pcsearch speed-up, maximum PC/BP ratio."""
    model: str = "mlp"
    algorithms: tuple[str, str] = ("pc-se", "bp-se")
    """pcsearch's (PC, BP) algorithms; the peer trains the PC one's output energy."""
    synthetic: bool = False
    """Random data of the dataset's shapes (pcsearch's ``synthetic=True``), no files."""
    max_batches: int | None = None
    """Batches per epoch (and of the test set); None: the whole data set."""
    paper: str | None = None
    """The row of the paper's Table 4 (``PAPER_TABLE4``) this setting is closest to."""

    @property
    def pc_algorithm(self) -> str:
        return self.algorithms[0]

    def overrides(self, algorithm: str) -> dict[str, Any]:
        """pcsearch overrides; everything else comes from the task's paper defaults."""
        values: dict[str, Any] = {"batch_size": self.batch_size, "epochs": self.epochs}
        if self.model == "mlp":
            values |= {
                "hidden_width": self.hidden_width,
                "hidden_layers": self.hidden_layers,
                "activation": "gelu",
            }
        if algorithm.startswith("pc") and self.T is not None:
            values["T"] = self.T
        return values


C_TIMING = {"batch_size": 16, "batches": 2}
"""Setting (c)'s defaults: small enough for two CPU cores (a VGG-5 PC batch of 16 is about
130 GFLOP); ``--batch-c 128`` is the paper's batch size, for a bigger machine."""
C_QUICK = {"batch_size": 4, "batches": 2}
"""Setting (c) under ``--quick``: a smoke run, not a measurement."""


def make_settings(
    epochs_a: int,
    epochs_b: int,
    epochs_c: int = 3,
    batch_c: int = C_TIMING["batch_size"],
    batches_c: int = C_TIMING["batches"],
) -> dict[str, Setting]:
    return {
        "a": Setting(
            "a",
            "(a) MNIST 784-128-128-128-10, gelu, batch 128, T=8, PC-SE",
            "mlp-mnist",
            "mnist",
            128,
            3,
            128,
            8,
            epochs_a,
            {"speedup": 1.3, "pc_bp": 4.0},
            paper="MLP",
        ),
        "b": Setting(
            "b",
            "(b) digits 64-64-64-10, gelu, batch 32, T=8, PC-SE",
            "mlp-digits",
            "digits",
            64,
            2,
            32,
            8,
            epochs_b,
            {"speedup": 3.0},
        ),
        "c": Setting(
            "c",
            f"(c) VGG-5, CIFAR-10-shaped synthetic data, batch {batch_c}, {batches_c} batches "
            "an epoch, T=8, PC-CE (the paper's VGG-5 CIFAR-10 values), crop+flip",
            "vgg5-cifar10",
            "cifar10",
            0,
            0,
            batch_c,
            None,
            epochs_c,
            model="vgg5",
            algorithms=("pc-ce", "bp-ce"),
            synthetic=True,
            max_batches=batches_c,
            paper="VGG-5",
        ),
    }


# ------------------------------------------------------------------------- the worker


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run pcsearch ``train`` once per entry of ``spec["runs"]``, in this one process.

    Runs in a child process started by the parent; its printed record is the measurement.
    """
    import jax

    if spec.get("bundled_npz"):
        _bundled_from_npz(spec["bundled_npz"])
    from pcsearch.training import train
    from pcsearch.training.environment import environment

    runs = []
    for overrides in spec["runs"]:
        result = train(
            spec["task"],
            spec["algorithm"],
            overrides,
            seed=spec["seed"],
            data_dir=spec["data_dir"],
            synthetic=bool(spec.get("synthetic")),
            max_batches=spec.get("max_batches"),
        )
        runs.append(
            {
                "epoch_seconds": [r.seconds for r in result.history],
                "accuracy": [r.value for r in result.history],
                "status": result.status,
            }
        )
    env = environment()
    return {
        "runs": runs,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "versions": {k: env[k] for k in ("pcsearch", "jax", "jaxlib", "equinox", "optax")},
        "device": env["device"],
        "jax_backend": jax.default_backend(),
    }


def _bundled_from_npz(path: str) -> None:
    """Serve the bundled data set from arrays the parent's pcsearch wrote.

    Only for the same-JAX diagnostic, whose interpreter (the peer's) may lack scikit-learn;
    it swaps a private loader, so the arrays are exactly those pcsearch itself produced.
    """
    import numpy as np

    from pcsearch.data import datasets

    @functools.cache  # like the loader it replaces, which pcsearch clears after use
    def load(name: str) -> datasets.Dataset:
        with np.load(path) as d:
            arrays = [d[k] for k in ("x_train", "y_train", "x_test", "y_test")]
        return datasets.Dataset(*arrays, num_classes=int(arrays[1].max()) + 1, name=name)

    datasets._load_bundled = load


# ------------------------------------------------------------------------- the parent


@dataclass
class Measured:
    """What one subprocess reported, plus its wall time as the parent saw it."""

    epoch_seconds: list[float]
    accuracy: list[float | None]
    peak_rss_mb: float
    process_seconds: float
    info: dict[str, Any]


class RunFailed(RuntimeError):
    pass


def child_env(cache_dir: Path | None, with_repo: bool = False) -> dict[str, str]:
    """The parent's environment, minus anything that would share compiled programs.

    ``with_repo`` puts this checkout on PYTHONPATH, for pcsearch under another interpreter.
    """
    env = dict(os.environ)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env["PYTHONUNBUFFERED"] = "1"
    if cache_dir is not None:
        env["PCSEARCH_CACHE_DIR"] = str(cache_dir)
    if with_repo:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_child(command: list[str], env: dict[str, str], timeout: float) -> tuple[dict, float]:
    """Run a child, return its ``RESULT`` record and wall seconds; raise with its stderr tail."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as err:
        raise RunFailed(f"timed out after {timeout:.0f} s: {' '.join(command[:3])} ...") from err
    seconds = time.perf_counter() - start
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise RunFailed(f"exit code {done.returncode}: {' '.join(command[:3])} ...\n{tail}")
    return json.loads(lines[-1][len(RESULT_PREFIX) :]), seconds


def run_pcsearch(
    task: str,
    algorithm: str,
    runs: list[dict[str, Any]],
    data_dir: Path,
    cache_dir: Path,
    seed: int,
    timeout: float,
    python: Path | None = None,
    bundled_npz: Path | None = None,
    synthetic: bool = False,
    max_batches: int | None = None,
) -> tuple[dict, float]:
    """pcsearch runs in a child; ``python`` other than ours runs this checkout's pcsearch."""
    spec = {
        "task": task,
        "algorithm": algorithm,
        "runs": runs,
        "data_dir": str(data_dir),
        "seed": seed,
        "bundled_npz": None if bundled_npz is None else str(bundled_npz),
        "synthetic": synthetic,
        "max_batches": max_batches,
    }
    interpreter = sys.executable if python is None else str(python)
    command = [interpreter, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    return run_child(command, child_env(cache_dir, with_repo=python is not None), timeout)


def measure_pcsearch(
    setting: Setting,
    algorithm: str,
    data_dir: Path,
    cache_dir: Path,
    seed: int,
    timeout: float,
    python: Path | None = None,
    bundled_npz: Path | None = None,
) -> Measured:
    record, seconds = run_pcsearch(
        setting.task,
        algorithm,
        [setting.overrides(algorithm)],
        data_dir,
        cache_dir,
        seed,
        timeout,
        python,
        bundled_npz,
        setting.synthetic,
        setting.max_batches,
    )
    run = record["runs"][0]
    return Measured(run["epoch_seconds"], run["accuracy"], record["peak_rss_mb"], seconds, record)


def peer_args(setting: Setting, params: dict[str, Any], data: list[str]) -> list[str]:
    """Peer flags from pcsearch's resolved hyperparameters, so both sides train the same."""
    from pcsearch.catalogue import algorithm_info, task_info

    if setting.model == "mlp":
        structure = [
            "--hidden-width",
            str(setting.hidden_width),
            "--hidden-layers",
            str(setting.hidden_layers),
        ]
    else:
        structure = ["--model", setting.model]
    augmentation = task_info(setting.task).augmentation
    if augmentation.crop is not None or augmentation.padding not in (0, 4):
        raise RunFailed(f"the peer has no augmentation like {setting.task}'s {augmentation}")
    if augmentation.padding and augmentation.flip:
        structure.append("--augment")
    elif augmentation.padding or augmentation.flip:
        raise RunFailed(f"the peer augments with crop and flip together, not {augmentation}")
    return [
        *data,
        *structure,
        "--energy",
        algorithm_info(setting.pc_algorithm).output_loss,
        "--activation",
        str(params["activation"]),
        "--batch-size",
        str(setting.batch_size),
        "--T",
        str(params["T"]),
        "--state-lr",
        repr(params["state_lr"]),
        "--state-momentum",
        repr(params["state_momentum"]),
        "--weight-lr",
        repr(params["weight_lr"]),
        "--weight-decay",
        repr(params["weight_decay"]),
        "--epochs",
        str(setting.epochs),
    ]


def measure_peer(
    peer_python: Path, setting: Setting, data: list[str], seed: int, timeout: float
) -> Measured:
    from pcsearch.params import resolve

    params = resolve(setting.task, setting.pc_algorithm, setting.overrides(setting.pc_algorithm))
    command = [str(peer_python), str(PEER_SCRIPT), *peer_args(setting, params, data)]
    record, seconds = run_child(command + ["--seed", str(seed)], child_env(None), timeout)
    return Measured(
        record["epoch_seconds"], record["accuracy"], record["peak_rss_mb"], seconds, record
    )


def check_peer(peer_python: Path) -> tuple[dict | None, str]:
    """The peer's versions, or None and why it cannot run."""
    if not peer_python.exists():
        return None, f"{peer_python} does not exist (pass --peer-python or --create-peer-venv)"
    try:
        info, _ = run_child(
            [str(peer_python), str(PEER_SCRIPT), "--check"], child_env(None), timeout=300
        )
    except (RunFailed, OSError) as err:
        return None, f"{peer_python} cannot import pcx: {str(err).splitlines()[-1]}"
    if info.get("pcx") != "0.6.3":
        print(f"note: peer has pcx {info.get('pcx')}, not 0.6.3")
    return info, ""


def create_peer_venv(target: Path) -> Path:
    """Make ``target`` a Python 3.11 virtualenv with pcx 0.6.3 (pcx's supported Python)."""
    if sys.version_info[:2] == (3, 11):
        base = sys.executable
    else:
        found = shutil.which("python3.11")
        if found is None:
            raise RunFailed("python3.11 not found on PATH; pcx 0.6.3 needs Python 3.11")
        base = found
    print(f"creating {target} with {base} and installing {' '.join(PEER_PACKAGES)} ...")
    subprocess.run([base, "-m", "venv", str(target)], check=True)
    python = target / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


# ------------------------------------------------------------------------- reporting


@dataclass
class Row:
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


def _num(value: float | None, fmt: str) -> str:
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
            f"{r.runner:<21} {_num(r.first, '.3f'):>13} {_num(r.steady, '.4f'):>15} "
            f"{spread:>17} {acc:>9} {_num(r.peak_mb, '.0f'):>8} {_num(r.process, '.1f'):>9}"
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
        lines.append(f"{label + ':':<40} {_num(value, '.2f')}{unit}{check}")

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


# ------------------------------------------------------------------------- sections


def run_setting(
    setting: Setting,
    args: argparse.Namespace,
    peer_python: Path | None,
    peer_info: dict | None,
    cache_root: Path,
    scratch: Path,
) -> None:
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
    runners = [PC, BP]
    if peer_python is not None:
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
                    algorithm = setting.algorithms[0] if runner == PC else setting.algorithms[1]
                    m = measure_pcsearch(
                        setting, algorithm, data_dir, cache, args.seed, args.timeout
                    )
            except RunFailed as err:
                failures[runner] = str(err)
                print(f"{runner} failed: {err}")
                continue
            measured[runner].append(m)
            accs = ", ".join(_num(a, ".4f") for a in m.accuracy)
            times = ", ".join(f"{s:.4f}" for s in m.epoch_seconds)
            print(f"  {runner} [repeat {repeat + 1}] epoch s: {times}; test acc: {accs}")
    rows: dict[str, Row] = {}
    for runner in (PC, BP, PEER, SAME_JAX):
        if measured.get(runner):
            rows[runner] = summarise(runner, measured[runner])
        elif runner in failures:
            rows[runner] = Row(runner, *([None] * 7), note="failed")
        elif runner == PEER:
            rows[runner] = Row(runner, *([None] * 7), note="peer unavailable")
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


def batches_per_epoch(setting: Setting) -> int | None:
    """Training batches in one of the setting's epochs, where known without loading data."""
    from benchmarks.gpu_table import TRAIN_SIZES

    if setting.max_batches is not None:
        return setting.max_batches
    size = TRAIN_SIZES.get(setting.dataset)
    return None if size is None else size // setting.batch_size


def format_paper(setting: Setting, rows: dict[str, Row]) -> str:
    """The paper's Table 4 figure beside ours, per batch (the epochs differ in length)."""
    if setting.paper is None:
        return ""
    from benchmarks.gpu_table import PAPER_BATCH, PAPER_GPU, PAPER_TABLE4

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
            f"{runner} here {_num(per_batch, '.2f')} ms/batch at batch {setting.batch_size}"
        )
    pc, bp = rows.get(PC), rows.get(BP)
    ours = None
    if pc is not None and bp is not None and not pc.note and not bp.note:
        ours = ratio(pc.steady, bp.steady)
    lines.append(
        f"  PC/BP: paper {paper.pc / paper.bp:.2f}, here {_num(ours, '.2f')} "
        f"(paper, Song's library/pcx PC: {paper.pc_song / paper.pc:.2f})"
    )
    return "\n".join(lines)


def write_synthetic_npz(scratch: Path, setting: Setting) -> Path:
    """pcsearch's synthetic arrays for the setting (cut to its batches), for the peer."""
    import numpy as np

    from pcsearch.catalogue import task_info
    from pcsearch.training.device_data import device_data

    d = device_data(
        setting.dataset,
        None,
        synthetic=True,
        batch_size=setting.batch_size,
        max_batches=setting.max_batches,
        test_crop=task_info(setting.task).augmentation.crop,
    )
    path = scratch / f"synthetic-{setting.key}.npz"
    np.savez(
        path,
        x_train=np.asarray(d.x_train),
        y_train=np.asarray(d.y_train).argmax(axis=1),
        x_test=np.asarray(d.x_test),
        y_test=np.asarray(d.labels_test),
    )
    return path


def write_digits_npz(scratch: Path) -> Path:
    """pcsearch's own digits split, for a peer without scikit-learn."""
    import numpy as np

    from pcsearch.data import load_dataset

    d = load_dataset("digits")
    path = scratch / "digits.npz"
    np.savez(path, x_train=d.x_train, y_train=d.y_train, x_test=d.x_test, y_test=d.y_test)
    return path


def cache_entries(cache_dir: Path) -> int:
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
            f"{label:<30} {seconds[0]:>13.4f} {_num(steady, '.4f'):>9} "
            f"{_num(ratio(seconds[0], steady), '.2f'):>12} {_num(extra, '.4f'):>14}  {shown}"
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
        share = _num(None if fraction is None else 100 * fraction, ".0f")
        print(
            f"one-time cost of a new process on a warm cache: {disk_cost:.3f} s, {share}% of the "
            f"cold compile's {cold_cost:.3f} s (what remains is tracing and loading, not XLA)"
        )


# ------------------------------------------------------------------------- main


def default_data_dir() -> str:
    return os.environ.get("PCSEARCH_DATA_DIR") or str(REPO.parent / "shared" / "data")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settings",
        default="a,b,reuse",
        help="comma-separated subset of a, b, c, reuse (the compile-reuse check); default "
        "a,b,reuse ((c), VGG-5, takes long on a CPU)",
    )
    parser.add_argument("--epochs-a", type=int, default=3, help="epochs in setting (a)")
    parser.add_argument("--epochs-b", type=int, default=5, help="epochs in setting (b)")
    parser.add_argument("--epochs-c", type=int, default=3, help="epochs in setting (c)")
    parser.add_argument(
        "--batch-c", type=int, default=C_TIMING["batch_size"], help="batch size in setting (c)"
    )
    parser.add_argument(
        "--batches-c",
        type=int,
        default=C_TIMING["batches"],
        help="batches an epoch in setting (c) (synthetic data has 4096 examples)",
    )
    parser.add_argument("--repeats", type=int, default=1, help="interleaved runs per runner")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"2 epochs each, setting (c) at batch {C_QUICK['batch_size']} with "
        f"{C_QUICK['batches']} batches an epoch: for smoke tests",
    )
    parser.add_argument(
        "--data-dir",
        default=default_data_dir(),
        help="folder holding mnist/; default $PCSEARCH_DATA_DIR or ../shared/data from the repo",
    )
    parser.add_argument(
        "--peer-python",
        type=Path,
        default=DEFAULT_PEER_VENV / "bin" / "python",
        help="interpreter of a virtualenv with pcx 0.6.3 (default: <repo>/.venv-pcx)",
    )
    parser.add_argument(
        "--create-peer-venv",
        action="store_true",
        help=f"create <repo>/.venv-pcx with {' '.join(PEER_PACKAGES)} first",
    )
    parser.add_argument(
        "--no-same-jax",
        dest="same_jax",
        action="store_false",
        help="skip the diagnostic run of pcsearch PC under the peer's interpreter (its JAX)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per subprocess")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs_a, args.epochs_b, args.epochs_c = 2, 2, 2
        args.batch_c, args.batches_c = C_QUICK["batch_size"], C_QUICK["batches"]
    args.settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    unknown = set(args.settings) - {"a", "b", "c", "reuse"}
    if unknown:
        parser.error(f"unknown settings {sorted(unknown)}; choose from a, b, c, reuse")
    if min(args.epochs_a, args.epochs_b, args.epochs_c) < 1 or args.repeats < 1:
        parser.error("epochs and repeats must be at least 1")
    if min(args.batch_c, args.batches_c) < 1:
        parser.error("--batch-c and --batches-c must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(RESULT_PREFIX + json.dumps(worker(json.loads(args.worker))), flush=True)
        return 0
    peer_python: Path | None = args.peer_python
    if args.create_peer_venv:
        try:
            peer_python = create_peer_venv(DEFAULT_PEER_VENV)
        except (RunFailed, subprocess.CalledProcessError, OSError) as err:
            print(f"peer unavailable: could not create {DEFAULT_PEER_VENV}: {err}")
            peer_python = None
    peer_info = None
    if peer_python is not None and ({"a", "b", "c"} & set(args.settings)):
        peer_info, reason = check_peer(peer_python)
        if peer_info is None:
            print(f"peer unavailable: {reason}")
            peer_python = None
    print("\n".join(machine_lines(peer_info)))
    settings = make_settings(
        args.epochs_a, args.epochs_b, args.epochs_c, args.batch_c, args.batches_c
    )
    with tempfile.TemporaryDirectory(prefix="pcsearch-epoch-time-") as tmp:
        cache_root, scratch = Path(tmp) / "caches", Path(tmp)
        for key in ("a", "b", "c"):
            if key in args.settings:
                run_setting(settings[key], args, peer_python, peer_info, cache_root, scratch)
        if "reuse" in args.settings:
            run_compile_reuse(settings["b"], args, cache_root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

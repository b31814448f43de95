"""The peer, pcx 0.6.3, as ``epoch_time.py`` drives it: flags, data, venv, one measured run.

``benchmarks/pcx_peer.py`` is the peer itself and runs standalone under the peer's own
interpreter; this module only builds its command line and the data files it reads.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.epoch_time_runs import REPO, Measured, RunFailed, child_env, run_child
from benchmarks.epoch_time_settings import Setting

PEER_SCRIPT = REPO / "benchmarks" / "pcx_peer.py"
DEFAULT_PEER_VENV = REPO / ".venv-pcx"
PEER_PACKAGES = ("pcx==0.6.3", "scikit-learn")


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
    elif setting.model == "ae-deconv":
        structure = ["--model", setting.model, *decoder_args(params)]
    else:
        structure = ["--model", setting.model]
    for key, peer_has in (("weight_optimizer", "adamw"), ("state_optimizer", "sgd")):
        if params.get(key, peer_has) != peer_has:
            raise RunFailed(f"the peer has {key} {peer_has} only, not {params[key]}")
    if task_info(setting.task).state_energy != "sum":
        raise RunFailed("the peer moves each example's state by its own energy (state_energy sum)")
    augmentation = task_info(setting.task).augmentation
    if augmentation.crop is not None:
        if augmentation.padding or not augmentation.flip:
            raise RunFailed(f"the peer crops without padding and flips, not {augmentation}")
        structure += ["--crop", str(augmentation.crop)]
    elif augmentation.padding not in (0, 4):
        raise RunFailed(f"the peer has no augmentation like {setting.task}'s {augmentation}")
    elif augmentation.padding and augmentation.flip:
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
        "--weight-schedule",
        str(params.get("weight_schedule", "warmup-cosine")),
        "--epochs",
        str(setting.epochs),
    ]


def decoder_args(params: dict[str, Any]) -> list[str]:
    """The deconv decoder's structure for the peer: pcsearch keeps the latent channels-last
    ([h, w, C], ``LATENT_SHAPE``), the peer every state channels-first ([C, h, w]); images
    come channels-first on both sides ([N, C, H, W], as the synthetic npz holds them)."""
    from pcsearch.models.deconv import DECODER_CHANNELS, LATENT_SHAPE

    if params["init"] not in ("zeros", "forward"):
        raise RunFailed(
            f"the peer starts the decoder's states at zero or forward, not {params['init']}"
        )
    latent = (LATENT_SHAPE[-1], *LATENT_SHAPE[:-1])
    return [
        "--kernel-size",
        str(params["kernel_size"]),
        "--init",
        str(params["init"]),
        "--latent-shape",
        ",".join(map(str, latent)),
        "--decoder-channels",
        ",".join(map(str, DECODER_CHANNELS)),
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

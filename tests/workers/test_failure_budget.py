"""One broken machine never stops the fleet: a worker whose data folder is corrupt fails
its trials, backs off, gives up on the study and says why on the study, while healthy
workers finish it. Real training on tiny MNIST files the test writes, on Postgres."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from optuna.trial import TrialState

from store import attrs, studies
from store.storage import open_storage
from tests.workers.fleet import assert_study_complete, fleet, make_study, trials_of

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]


def write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def tiny_mnist(root: Path, train: int = 256, test: int = 128) -> Path:
    """A valid MNIST folder with few examples (random pixels, labels from a simple rule)."""
    folder = root / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("t10k", test)):
        images = rng.integers(0, 256, size=(n, 28, 28))
        labels = (images[:, :14].mean(axis=(1, 2)) > images[:, 14:].mean(axis=(1, 2))).astype(int)
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return root


def test_a_broken_worker_gives_up_and_the_healthy_ones_finish(
    postgres_url: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    healthy = tiny_mnist(tmp_path / "good")
    broken = tmp_path / "bad"
    (broken / "mnist").mkdir(parents=True)
    for file in (healthy / "mnist").iterdir():
        (broken / "mnist" / file.name).write_bytes(b"not an IDX file")
    make_study(postgres_url, "budget", n_trials=4, epochs=1, task="mlp-mnist")
    settings = {"PCSEARCH_FAILURE_BACKOFF_SECONDS": "0.2", "PCSEARCH_MAX_CONSECUTIVE_FAILURES": "3"}
    with fleet(pcsearch_exe, tmp_path, postgres_url, **settings) as f:
        bad = f.start("--study", "budget", "--until-done", "--poll", "0.3",
                      extra_env={"PCSEARCH_DATA_DIR": str(broken)})  # fmt: skip
        assert bad.wait(timeout=120) == 1, f.output()
        for i in range(2):
            f.start("--study", "budget", "--until-done", "--seed", str(i), "--poll", "0.3",
                    extra_env={"PCSEARCH_DATA_DIR": str(healthy)})  # fmt: skip
        codes = f.wait(timeout=200)
        output = f.output()
    assert codes == [1, 0, 0], output
    assert "gave up on study 'budget'" in output
    trials = assert_study_complete(postgres_url, "budget", 4)
    errors = [t for t in trials if t.state == TrialState.FAIL]
    assert len(errors) == 3 and all("DataFormatError" in t.user_attrs["error"] for t in errors)
    # The reason is on the study; one worker giving up does not mark the study failing.
    study, _ = studies.load(open_storage(postgres_url), "budget")
    (reason,) = studies.failing_workers(study.user_attrs).values()
    assert "3 trials failed in a row" in reason["reason"] and "DataFormatError" in reason["reason"]
    assert studies.status(study) == attrs.ACTIVE


def test_a_study_every_worker_fails_is_marked_failing(
    postgres_url: str, pcsearch_exe: str, tmp_path: Path
) -> None:
    broken = tmp_path / "bad"
    (broken / "mnist").mkdir(parents=True)
    make_study(postgres_url, "doomed", n_trials=4, epochs=1, task="mlp-mnist")
    env = {"PCSEARCH_FAILURE_BACKOFF_SECONDS": "0.1", "PCSEARCH_MAX_CONSECUTIVE_FAILURES": "2",
           "PCSEARCH_DATA_DIR": str(broken)}  # fmt: skip
    for file in ("train-images", "train-labels", "t10k-images", "t10k-labels"):
        (broken / "mnist" / f"{file}-idx{3 if 'images' in file else 1}-ubyte.gz").write_text("x")
    with fleet(pcsearch_exe, tmp_path, postgres_url, **env) as f:
        for i in range(2):
            f.start("--study", "doomed", "--until-done", "--seed", str(i), "--poll", "0.3")
        codes = f.wait(timeout=120)
        output = f.output()
    assert codes == [1, 1], output
    study, _ = studies.load(open_storage(postgres_url), "doomed")
    assert studies.status(study) == attrs.FAILING
    assert len(studies.failing_workers(study.user_attrs)) == 2
    # A person fixes the cause and resumes: the marks are gone, workers take it again.
    studies.resume(open_storage(postgres_url), "doomed")
    study, _ = studies.load(open_storage(postgres_url), "doomed")
    assert studies.status(study) == attrs.ACTIVE and not studies.failing_workers(study.user_attrs)
    assert not [t for t in trials_of(postgres_url, "doomed") if t.state == TrialState.RUNNING]

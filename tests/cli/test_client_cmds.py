"""``pcsearch submit | status | stop | resume | delete`` against a real ``pcsearch api``
process on Postgres, over real HTTP: success paths, and every failure as one line. The
client runs in this process (``run_main``: its output and exit code are the point), and as
a real process where its terminal is (``delete`` asking, or refusing without one)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.api.helpers import (
    COMPLETE,
    RUNNING,
    TOKENS,
    ApiProcess,
    TrialSpec,
    add_trials,
    api_process,
    free_port,
    make_config,
    unique,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]

Run = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="module")
def server(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    log = tmp_path_factory.mktemp("api") / "api.log"
    with api_process(postgres_url, log) as running:
        yield running


@pytest.fixture
def pcsearch(run_main: Run, server: ApiProcess) -> Run:
    """Run the client with the server's URL in PCSEARCH_API_URL and, unless told otherwise,
    a valid PCSEARCH_API_TOKEN (no other PCSEARCH_API_* of the machine's)."""

    def run(*args: str, token: str | None = TOKENS[1], **env: str) -> subprocess.CompletedProcess:
        environment: dict[str, str | None] = {
            k: None for k in os.environ if k.startswith("PCSEARCH_API")
        }
        environment["PCSEARCH_API_URL"] = server.url
        if token:
            environment["PCSEARCH_API_TOKEN"] = token
        return run_main(*args, env=environment | env)

    return run


def one_line_error(done: subprocess.CompletedProcess, code: int, command: str) -> str:
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"pcsearch {command}: error: ")
    return lines[0]


def test_submit_status_stop_resume(pcsearch: Run) -> None:
    name = unique("cli")
    submit = ["submit", "--task", "mlp-digits", "--algorithm", "pc-se", "--trials", "6"]
    created = pcsearch(*submit, "--name", name, "--epochs", "2", "--seed", "3")
    assert created.returncode == 0, created.stderr
    assert f"created study '{name}': 6 trials of mlp-digits / pc-se" in created.stdout
    assert "discriminative-small-pc@1" in created.stdout

    table = pcsearch("status")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["NAME", "STATE", "DONE", "RUNNING", "FAILED", "BEST"]
    assert [name, "queued", "0/6", "0", "0", "-"] in [r.split() for r in rows]

    one = pcsearch("status", name)
    assert one.returncode == 0, one.stderr
    assert one.stdout.splitlines()[:2] == [
        f"study '{name}': mlp-digits / pc-se, queued",
        "trials 0/6 done (complete 0, pruned 0), running 0, failed 0",
    ]
    shown = json.loads(pcsearch("status", name, "--json").stdout)
    assert shown["spec"]["seed"] == 3 and shown["spec"]["overrides"] == {"epochs": 2}

    stopped = pcsearch("stop", name)
    assert stopped.returncode == 0 and "(state stopped)" in stopped.stdout
    resumed = pcsearch("resume", name)
    assert resumed.returncode == 0 and "(state queued)" in resumed.stdout


def test_status_shows_progress_best_trial_and_workers_that_gave_up(
    pcsearch: Run, server: ApiProcess, postgres_url: str
) -> None:
    from store import studies
    from store.storage import open_storage
    from tests.api.helpers import COMPLETE, PRUNED, TrialSpec, add_trials, epoch_attrs, make_config

    storage = open_storage(postgres_url)
    name = unique("progress")
    study = studies.create(storage, name, make_config(n_trials=4))
    add_trials(study, [TrialSpec(COMPLETE, 0.875, epoch_attrs([0.8, 0.875])), TrialSpec(PRUNED)])
    studies.give_up(study, "gpu-1:77", "CUDA out of memory", 3, 5)
    done = pcsearch("status", name)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1] == (
        "trials 2/4 done (complete 1, pruned 1), running 0, failed 0 | best 0.8750 (trial 0)"
    )
    assert lines[2] == "best parameters:"
    assert any(line.startswith("  T = ") for line in lines)
    assert lines[-1] == "worker gpu-1:77 gave up, 3 failures: CUDA out of memory"


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_submit_sends_a_space_file_inline(pcsearch: Run, tmp_path: Path, suffix: str) -> None:
    shown = pcsearch("spaces", "show", "discriminative-small-pc")
    space = json.loads(shown.stdout)
    space["name"], space["params"]["T"] = "my-space", {"type": "int", "low": 2, "high": 3}
    path = tmp_path / f"space{suffix}"
    path.write_text(json.dumps(space) if suffix == ".json" else yaml.safe_dump(space))
    done = pcsearch(
        "submit", "--task", "mlp-digits", "--algorithm", "pc-se", "--trials", "2",
        "--space", str(path), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["spec"]["space"]["params"]["T"]["high"] == 3


def test_missing_token_is_401_in_one_line(pcsearch: Run) -> None:
    line = one_line_error(pcsearch("status", token=None), 2, "status")
    assert "401" in line and "PCSEARCH_API_TOKEN" in line
    wrong = one_line_error(pcsearch("stop", "anything", token="nope"), 2, "stop")
    assert "401" in wrong and "not one of the server's" in wrong


def test_unknown_study_is_404_in_one_line(pcsearch: Run) -> None:
    for command in ("stop", "resume", "status"):
        line = one_line_error(pcsearch(command, "no-such-study"), 2, command)
        assert "404" in line and "'no-such-study' does not exist" in line


def test_invalid_submission_shows_the_servers_message(pcsearch: Run) -> None:
    done = pcsearch(
        "submit", "--task", "mlp-digits", "--algorithm", "pc-se", "--trials", "5",
        "--space", "discriminative-bp", "--sampler", "grid", "--epochs", "0",
    )  # fmt: skip
    line = one_line_error(done, 2, "submit")
    assert "422" in line and "epochs: Input should be greater than or equal to 1 (got 0)" in line
    done = pcsearch(
        "submit", "--task", "mlp-digits", "--algorithm", "pc-se", "--trials", "5",
        "--space", "discriminative-bp", "--sampler", "grid",
    )  # fmt: skip
    line = one_line_error(done, 2, "submit")
    assert "space: search space 'discriminative-bp@2' is not meant for algorithm" in line
    assert "; sampler: space 'discriminative-bp@2' is a bayesian space" in line


def test_taken_name_is_409_in_one_line(pcsearch: Run) -> None:
    name = unique("twice")
    submit = ["submit", "--task", "mlp-digits", "--algorithm", "pc-se", "--trials", "1"]
    assert pcsearch(*submit, "--name", name).returncode == 0
    line = one_line_error(pcsearch(*submit, "--name", name), 2, "submit")
    assert "409" in line and "already exists" in line


def test_unreadable_space_file_is_one_line(pcsearch: Run) -> None:
    done = pcsearch(
        "submit", "--task", "mlp-digits", "--algorithm", "pc-se", "--trials", "1",
        "--space", "missing.json",
    )  # fmt: skip
    assert "cannot read the file" in one_line_error(done, 2, "submit")


def test_unreachable_api_is_one_line_and_exit_1(pcsearch: Run) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (["status"], ["stop", "x"], ["submit", "--task", "t", "--algorithm", "a",
                                                "--trials", "1"]):  # fmt: skip
        line = one_line_error(pcsearch(*args, "--api", url), 1, args[0])
        assert f"cannot reach the API at {url}" in line


# --- pcsearch delete -------------------------------------------------------------------------


def _study_with(postgres_url: str, *specs: TrialSpec) -> str:
    """A study of 3 trials made in the store, with trials as ``specs`` say."""
    from store import studies
    from store.storage import open_storage

    name = unique("delete")
    study = studies.create(open_storage(postgres_url), name, make_config(n_trials=3))
    add_trials(study, list(specs))
    return name


def on_a_terminal(
    pcsearch_exe: str, server: ApiProcess, tmp_path: Path, args: list[str], answer: str
) -> tuple[int, str]:
    """Run the client with a pseudo-terminal as stdin, answer its question with ``answer``;
    its exit code and everything it wrote to the terminal."""
    import pty
    import select

    controller, terminal = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PCSEARCH_API")}
    environment |= {"PCSEARCH_API_URL": server.url, "PCSEARCH_API_TOKEN": TOKENS[1]}
    process = subprocess.Popen(
        [pcsearch_exe, *args], cwd=tmp_path, env=environment,
        stdin=terminal, stdout=terminal, stderr=terminal,
    )  # fmt: skip
    os.close(terminal)
    shown, answered = b"", False
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 60)
            assert ready, f"no output within 60 s: {shown!r}"
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the client exited and closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if not answered and b"[y/N]" in shown:
                os.write(controller, answer.encode() + b"\n")
                answered = True
        return process.wait(timeout=60), shown.decode(errors="replace")
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()


def test_delete_with_yes_and_force(pcsearch: Run, postgres_url: str) -> None:
    idle = _study_with(postgres_url, TrialSpec(COMPLETE, 0.5))
    done = pcsearch("delete", idle, "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"deleted study '{idle}' and its trials"
    line = one_line_error(pcsearch("status", idle), 2, "status")
    assert "404" in line

    busy = _study_with(postgres_url, TrialSpec(RUNNING))
    line = one_line_error(pcsearch("delete", busy, "--yes"), 2, "delete")
    assert "409" in line and "1 running trial(s)" in line
    assert pcsearch("status", busy).returncode == 0
    done = pcsearch("delete", busy, "--yes", "--force")
    assert done.returncode == 0, done.stderr
    assert "workers drop its running trials" in done.stdout
    assert "404" in one_line_error(pcsearch("status", busy), 2, "status")


def test_delete_without_a_terminal_needs_yes(
    pcsearch: Run, pcsearch_exe: str, server: ApiProcess, tmp_path: Path, postgres_url: str
) -> None:
    name = _study_with(postgres_url)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PCSEARCH_API")}
    environment |= {"PCSEARCH_API_URL": server.url, "PCSEARCH_API_TOKEN": TOKENS[1]}
    done = subprocess.run(
        [pcsearch_exe, "delete", name], cwd=tmp_path, env=environment, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    line = one_line_error(done, 2, "delete")
    assert f"not deleting study '{name}'" in line and "pass --yes" in line
    assert pcsearch("status", name).returncode == 0  # still there
    line = one_line_error(pcsearch("delete", "no-such-study", "--yes"), 2, "delete")
    assert "404" in line and "'no-such-study' does not exist" in line


def test_delete_asks_on_a_terminal(
    pcsearch: Run, pcsearch_exe: str, server: ApiProcess, tmp_path: Path, postgres_url: str
) -> None:
    name = _study_with(postgres_url, TrialSpec(COMPLETE, 0.5))
    code, shown = on_a_terminal(pcsearch_exe, server, tmp_path, ["delete", name], "n")
    assert code == 0, shown
    assert f"delete study '{name}' (queued, 1/3 trials done, 0 running)" in shown
    assert f"study '{name}' not deleted" in shown
    assert pcsearch("status", name).returncode == 0

    code, shown = on_a_terminal(pcsearch_exe, server, tmp_path, ["delete", name], "y")
    assert code == 0, shown
    assert f"deleted study '{name}' and its trials" in shown
    assert "404" in one_line_error(pcsearch("status", name), 2, "status")


def test_delete_on_an_unreachable_api_is_exit_1(pcsearch: Run) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    line = one_line_error(pcsearch("delete", "x", "--yes", "--api", url), 1, "delete")
    assert f"cannot reach the API at {url}" in line

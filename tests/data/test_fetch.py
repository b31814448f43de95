"""``pcsearch data fetch`` / ``check`` and the core they call (``pcsearch.data.fetch``), against
the local mirror (http.server on 127.0.0.1) serving tiny files written here, with the
loaders' URL and md5 lists patched to point at them, as the loader tests do. Nothing here
reaches the internet. The command is run through a parser built here, not ``main``."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pcsearch.catalogue import TASKS
from pcsearch.data import DATASETS, cifar, load_dataset
from pcsearch.data import datasets as ds
from pcsearch.data import tinyimagenet as tin
from pcsearch.data.fetch import BUNDLED, data_files, fetch, verify
from pcsearch.errors import UnknownNameError
from pcsearch_cli import data_cmd
from pcsearch_cli.main import Parser
from tests.data.conftest import Mirror
from tests.data.test_celeba import write_tree
from tests.data.test_cifar import write_archive
from tests.data.test_datasets import write_tiny_set
from tests.data.test_ood_sets import offline as ood_offline
from tests.data.test_ood_sets import serve_emnist, serve_kmnist, serve_notmnist
from tests.data.test_tinyimagenet import fake_files, write_zip

MNIST_FILES = ds.IDX_FILES


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, no_proxies: None) -> Iterator[None]:
    """No proxies (see conftest), no inherited data dir, no stale in-memory copies."""
    monkeypatch.delenv(ds.DATA_DIR_ENV, raising=False)
    ds.clear_cache()
    yield
    ds.clear_cache()


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _serve_idx(name: str, served: Path, url: str, mp: pytest.MonkeyPatch) -> None:
    write_tiny_set(served / name)
    mp.setitem(ds.MIRRORS, name, (url + f"{name}/",))
    mp.setitem(ds.MD5, name, {f: _md5(served / name / f) for f in ds.IDX_FILES})


def _serve_cifar(name: str, served: Path, url: str, mp: pytest.MonkeyPatch) -> None:
    write_archive(served, name)
    file = f"{name}/{cifar.ARCHIVES[name]}"
    mp.setitem(cifar.MIRRORS, name, (url + "absent.tar.gz", url + file))
    mp.setitem(cifar.MD5, name, _md5(served / file))


def _serve_tinyimagenet(name: str, served: Path, url: str, mp: pytest.MonkeyPatch) -> None:
    zipped = write_zip(served / "tinyimagenet" / tin.ARCHIVE, fake_files())
    mp.setattr(tin, "MIRRORS", (url + "tinyimagenet/" + tin.ARCHIVE,))
    mp.setattr(tin, "MD5", _md5(zipped))


SERVERS: dict[str, Callable[[str, Path, str, pytest.MonkeyPatch], None]] = {
    "mnist": _serve_idx,
    "fashionmnist": _serve_idx,
    "cifar10": _serve_cifar,
    "cifar100": _serve_cifar,
    "tinyimagenet": _serve_tinyimagenet,
    "kmnist": lambda _, served, url, mp: serve_kmnist(served, url, mp),
    "emnist-letters": lambda _, served, url, mp: serve_emnist(served, url, mp),
    "notmnist": lambda _, served, url, mp: serve_notmnist(served, url, mp),
}
"""How to put each downloadable set's tiny files on the mirror and point the loader at them."""


def _offline(mp: pytest.MonkeyPatch, refused_url: str) -> None:
    """Every loader's mirror refused: what loads now comes from disk only."""
    for name in ds.MIRRORS:
        mp.setitem(ds.MIRRORS, name, (refused_url,))
    for name in cifar.MIRRORS:
        mp.setitem(cifar.MIRRORS, name, (refused_url,))
    mp.setattr(tin, "MIRRORS", (refused_url,))
    ood_offline(mp, refused_url)


@pytest.fixture
def served_mnist(mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> Path:
    """MNIST's four (tiny) files on the mirror; returns the folder that holds them."""
    url, served = mirror
    _serve_idx("mnist", served, url, monkeypatch)
    return served / "mnist"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``pcsearch data ARGV`` through a parser built here: (exit status, stdout, stderr)."""
    parser = Parser(prog="pcsearch")
    data_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data", *map(str, argv)])
    code = args.handler(args)
    out, err = capsys.readouterr()
    return code, out, err


def _lines(out: str, label: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(label + " ")]


# ------------------------------------------------------------------------- the core


def test_fetch_downloads_and_a_second_fetch_downloads_nothing(
    tmp_path: Path, served_mnist: Path
) -> None:
    data = tmp_path / "data"
    first = fetch("mnist", data)
    assert [(r.path.name, r.status) for r in first] == [(f, "downloaded") for f in MNIST_FILES]
    for f in MNIST_FILES:
        assert (data / "mnist" / f).read_bytes() == (served_mnist / f).read_bytes()
    stamps = {f: (data / "mnist" / f).stat().st_mtime_ns for f in MNIST_FILES}
    for f in MNIST_FILES:  # a second download would now fail
        (served_mnist / f).unlink()
    second = fetch("mnist", data)
    assert [(r.path.name, r.status) for r in second] == [(f, "present") for f in MNIST_FILES]
    assert {f: (data / "mnist" / f).stat().st_mtime_ns for f in MNIST_FILES} == stamps


def test_a_corrupted_file_is_reported_by_verify_and_fetched_again(
    tmp_path: Path, served_mnist: Path
) -> None:
    data = tmp_path / "data"
    fetch("mnist", data)
    damaged = data / "mnist" / MNIST_FILES[1]
    damaged.write_bytes(damaged.read_bytes()[:-5])
    report = {r.path.name: r for r in verify("mnist", data)}
    assert report[MNIST_FILES[1]].status == "corrupt"
    assert "pcsearch data fetch mnist" in report[MNIST_FILES[1]].detail
    assert all(report[f].status == "present" for f in MNIST_FILES if f != MNIST_FILES[1])
    assert damaged.read_bytes() != (served_mnist / MNIST_FILES[1]).read_bytes()  # verify only
    again = {r.path.name: r.status for r in fetch("mnist", data)}
    assert again == {f: "downloaded" if f == MNIST_FILES[1] else "present" for f in MNIST_FILES}
    assert damaged.read_bytes() == (served_mnist / MNIST_FILES[1]).read_bytes()
    assert all(r.ok for r in verify("mnist", data))


def test_a_recompressed_copy_the_loader_reads_is_usable_and_kept(
    tmp_path: Path, served_mnist: Path
) -> None:
    """Some mirrors ship MNIST gzipped anew: other bytes, same images. Such a copy is not
    refused by check nor replaced by fetch, because the loader reads it."""
    data = tmp_path / "data"
    fetch("mnist", data)
    copy = data / "mnist" / MNIST_FILES[0]
    copy.write_bytes(gzip.compress(gzip.decompress(copy.read_bytes()), compresslevel=1, mtime=7))
    assert _md5(copy) != _md5(served_mnist / MNIST_FILES[0])
    ds.clear_cache()
    report = {r.path.name: r for r in verify("mnist", data)}
    assert report[MNIST_FILES[0]].status == "present", report[MNIST_FILES[0]]
    assert "reads it correctly" in report[MNIST_FILES[0]].detail
    kept = copy.read_bytes()
    assert {r.status for r in fetch("mnist", data)} == {"present"}
    assert copy.read_bytes() == kept


def test_offline_fetch_reports_failure_with_the_fix_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    _offline(monkeypatch, refused_url)
    reports = fetch("cifar10", tmp_path / "data", timeout=2)
    assert [r.status for r in reports] == ["failed"]
    assert "offline" in reports[0].detail and "pcsearch data fetch cifar10" in reports[0].detail
    assert not any(p.is_file() for p in (tmp_path / "data").rglob("*"))


def test_sets_without_files_need_nothing_and_unknown_names_are_refused(tmp_path: Path) -> None:
    for name in ("digits", "two-moons", "two-circles", "iris"):
        assert data_files(name) is None
        assert fetch(name, tmp_path) == [] and verify(name, tmp_path) == []
    assert not any(tmp_path.iterdir())
    with pytest.raises(UnknownNameError, match="cifar10"):
        data_files("svhn")


def test_celeba_says_the_manual_step_and_accepts_what_the_loader_reads(tmp_path: Path) -> None:
    reports = fetch("celeba", tmp_path)
    assert [r.status for r in reports] == ["failed", "failed"]
    assert all("drive.google.com" in r.detail and "Img/img_align_celeba.zip" in r.detail
               for r in reports)  # fmt: skip
    write_tree(tmp_path)  # the extracted folder and the partition list, no zip
    assert [r.status for r in verify("celeba", tmp_path)] == ["present", "present"]
    load_dataset("celeba", tmp_path)  # what verify accepts, the loader reads


# ---------------------------------------------------------- the files are the loaders'


@pytest.mark.parametrize("name", list(SERVERS))
def test_what_fetch_puts_there_the_loader_reads_offline(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mirror: Mirror,
    refused_url: str,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    url, served = mirror
    SERVERS[name](name, served, url, monkeypatch)
    code, out, _ = cli(capsys, "fetch", name, "--data-dir", tmp_path / "data")
    files = data_files(name)
    assert files is not None
    assert code == 0 and len(_lines(out, "downloaded")) == len(files.files)
    _offline(monkeypatch, refused_url)
    assert load_dataset(name, tmp_path / "data").name == name
    assert cli(capsys, "check", name, "--data-dir", tmp_path / "data")[0] == 0


def test_every_file_based_set_has_a_mirror_recipe_here() -> None:
    """A new downloadable set needs a SERVERS entry above, or this file tests it nowhere."""
    downloadable = {
        f.folder for n in DATASETS if (f := data_files(n)) and any(x.urls for x in f.files)
    }
    assert downloadable == {f.folder for n in SERVERS if (f := data_files(n))}


# ------------------------------------------------------------------------ the command


def test_cli_fetch_then_fetch_again_then_check(
    tmp_path: Path, served_mnist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "fetch", "mnist", "--data-dir", tmp_path)
    assert code == 0
    assert [line.split()[1] for line in _lines(out, "downloaded")] == [
        f"mnist/{f}" for f in MNIST_FILES
    ]
    code, out, _ = cli(capsys, "fetch", "mnist", "--data-dir", tmp_path)
    assert code == 0 and _lines(out, "downloaded") == []
    assert len(_lines(out, "already there")) == len(MNIST_FILES)
    code, out, _ = cli(capsys, "check", "mnist", "--data-dir", tmp_path)
    assert code == 0 and len(_lines(out, "ok")) == len(MNIST_FILES)


def test_cli_check_finds_a_corrupt_file_and_fetch_repairs_it(
    tmp_path: Path, served_mnist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(capsys, "fetch", "mnist", "--data-dir", tmp_path)
    (tmp_path / "mnist" / MNIST_FILES[0]).write_bytes(b"not gzip")
    code, out, err = cli(capsys, "check", "mnist", "--data-dir", tmp_path)
    assert code == 1
    assert [line.split()[1] for line in _lines(out, "corrupt")] == [f"mnist/{MNIST_FILES[0]}"]
    assert f"mnist/{MNIST_FILES[0]}" in err
    code, out, _ = cli(capsys, "fetch", "mnist", "--data-dir", tmp_path)
    assert code == 0 and len(_lines(out, "downloaded")) == 1
    assert cli(capsys, "check", "mnist", "--data-dir", tmp_path)[0] == 0


def test_cli_check_on_an_empty_folder_lists_every_file_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["mnist", "cifar10", "cifar100", "tinyimagenet", "celeba"]
    code, out, err = cli(capsys, "check", *names, "--data-dir", tmp_path)
    assert code == 1
    expected = []
    for name in names:
        files = data_files(name)
        assert files is not None
        expected += [f"{files.folder}/{f.name}" for f in files.files]
    missing = [line.split()[1] for line in _lines(out, "missing")]
    assert missing == expected and len(expected) == 9
    assert all(path in err for path in expected)
    assert list(tmp_path.iterdir()) == []  # check downloads and creates nothing


def test_cli_unknown_name_exits_2_with_the_known_names_and_does_nothing(
    tmp_path: Path, served_mnist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for action in ("fetch", "check"):
        code, out, err = cli(capsys, action, "mnist", "svhn", "--data-dir", tmp_path / "data")
        assert code == 2 and "'svhn'" in err
        assert all(name in err for name in [*DATASETS, *TASKS])
        assert out == ""
    assert not (tmp_path / "data").exists()  # the known name was not fetched either


def test_cli_task_name_maps_to_its_data_set_and_each_set_is_handled_once(
    tmp_path: Path, served_mnist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert TASKS["mlp-mnist"].dataset == "mnist" and TASKS["ae-mnist"].dataset == "mnist-raw"
    code, out, _ = cli(capsys, "fetch", "mlp-mnist", "ae-mnist", "mnist", "--data-dir", tmp_path)
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(MNIST_FILES)
    assert len(_lines(out, "downloaded")) == len(MNIST_FILES)
    assert _lines(out, "already there") == []  # the one folder handled once, not three times
    code, out, _ = cli(capsys, "check", "vgg5-cifar10", "--data-dir", tmp_path)
    assert code == 1
    assert [line.split()[1] for line in _lines(out, "missing")] == [
        f"cifar10/{cifar.ARCHIVES['cifar10']}"
    ]


def test_cli_sets_without_files_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", "mlp-digits", "iris", "--data-dir", tmp_path)
    assert code == 0
    assert f"digits: {BUNDLED}" in out and f"iris: {BUNDLED}" in out


def test_cli_data_dir_defaults_to_the_configured_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    served_mnist: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(ds.DATA_DIR_ENV, str(tmp_path / "configured"))
    code, out, _ = cli(capsys, "fetch", "mnist")
    assert code == 0 and f"data folder: {tmp_path / 'configured'}" in out
    assert sorted(p.name for p in (tmp_path / "configured" / "mnist").iterdir()) == sorted(
        MNIST_FILES
    )

"""Tiny ImageNet from a tiny fake tree of real JPEGs (3 classes, a few 64x64 images), as a
folder, as a zip read in place, and from the .npz cache; damaged and missing files say
what to do. Nothing reaches the internet."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pcsearch.data import load_dataset
from pcsearch.data import tinyimagenet as tin
from pcsearch.data.tinyimagenet import load_tinyimagenet
from pcsearch.errors import DataFormatError, DataUnavailableError
from tests.data.conftest import Mirror

WNIDS = ("n02", "n01", "n03")  # listed out of order: classes are the sorted wnids
TRAIN = {"n01": 2, "n02": 1, "n03": 2}
VAL = {"val_0.JPEG": "n03", "val_1.JPEG": "n01", "val_2.JPEG": "n02"}


@pytest.fixture(autouse=True)
def _isolated(no_proxies: None) -> Iterator[None]:
    tin.clear_cache()
    yield
    tin.clear_cache()


def _jpeg(seed: int, mode: str = "RGB", size: int = 64) -> bytes:
    """A smooth random image (JPEG keeps it close) encoded as the dataset's files are."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((size, size), Image.BILINEAR).convert(mode)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def fake_files(grey: str | None = None) -> dict[str, bytes]:
    """Paths under tiny-imagenet-200/ and their bytes; ``grey`` names a greyscale image."""
    files = {"wnids.txt": "\n".join(WNIDS).encode() + b"\n"}
    seed = 0
    for wnid, n in TRAIN.items():
        files[f"train/{wnid}/{wnid}_boxes.txt"] = b"ignored"
        for i in range(n):
            name = f"{wnid}_{i}.JPEG"
            files[f"train/{wnid}/images/{name}"] = _jpeg(seed, "L" if name == grey else "RGB")
            seed += 1
    lines = [f"{name}\t{wnid}\t0\t0\t63\t63" for name, wnid in VAL.items()]
    files["val/val_annotations.txt"] = ("\n".join(lines) + "\n").encode()
    for name in VAL:
        files[f"val/images/{name}"] = _jpeg(seed)
        seed += 1
    return files


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / "tinyimagenet" / tin.FOLDER / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root / "tinyimagenet" / tin.FOLDER


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        for rel, data in files.items():
            z.writestr(f"{tin.FOLDER}/{rel}", data)
    return path


def expected(files: dict[str, bytes], rel: str) -> np.ndarray:
    """What the loader must return for one file: PIL's decoding, normalised by Table 6."""
    rgb = np.asarray(Image.open(io.BytesIO(files[rel])).convert("RGB"), np.float32)
    mean, std = np.array(tin.MEAN, np.float32), np.array(tin.STD, np.float32)
    return ((rgb / 255 - mean) / std).transpose(2, 0, 1)


def test_folder_layout_labels_normalisation_and_cache(tmp_path: Path) -> None:
    files = fake_files(grey="n03_1.JPEG")
    folder = write_folder(tmp_path, files)
    x_tr, y_tr, x_te, y_te, k = load_tinyimagenet(tmp_path)
    assert k == 200 and x_tr.shape == (5, 3, 64, 64) and x_te.shape == (3, 3, 64, 64)
    assert (x_tr.dtype, y_tr.dtype) == (np.float32, np.int32)
    np.testing.assert_array_equal(y_tr, [0, 0, 1, 2, 2])  # n01, n02, n03 by sorted wnid
    np.testing.assert_array_equal(y_te, [2, 0, 1])  # val_0 n03, val_1 n01, val_2 n02
    np.testing.assert_allclose(x_tr[0], expected(files, "train/n01/images/n01_0.JPEG"), atol=1e-5)
    grey = x_tr[4]  # a greyscale JPEG becomes three equal channels before normalising
    np.testing.assert_allclose(grey * np.array(tin.STD)[:, None, None]
                               + np.array(tin.MEAN)[:, None, None],
                               np.broadcast_to(grey[0] * tin.STD[0] + tin.MEAN[0], grey.shape),
                               atol=1e-5)  # fmt: skip
    np.testing.assert_allclose(x_te[1], expected(files, "val/images/val_1.JPEG"), atol=1e-5)
    assert not x_tr.flags.writeable

    cache = tmp_path / "tinyimagenet" / tin.CACHE
    assert cache.is_file()
    for path in sorted(folder.rglob("*"), reverse=True):  # the cache alone is enough now
        path.unlink() if path.is_file() else path.rmdir()
    tin.clear_cache()
    again = load_tinyimagenet(tmp_path)
    np.testing.assert_array_equal(again[0], x_tr)
    np.testing.assert_array_equal(again[3], y_te)


def test_zip_read_in_place_matches_the_folder(tmp_path: Path) -> None:
    files = fake_files()
    write_folder(tmp_path / "a", files)
    write_zip(tmp_path / "b" / "tinyimagenet" / tin.ARCHIVE, files)
    from_folder = load_tinyimagenet(tmp_path / "a")
    tin.clear_cache()
    from_zip = load_tinyimagenet(tmp_path / "b")
    for a, b in zip(from_folder[:4], from_zip[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    names = sorted(p.name for p in (tmp_path / "b" / "tinyimagenet").iterdir())
    assert names == sorted([tin.CACHE, tin.ARCHIVE])  # nothing extracted


def test_registered_as_a_dataset(tmp_path: Path) -> None:
    write_folder(tmp_path, fake_files())
    d = load_dataset("tinyimagenet", tmp_path)
    assert d.num_classes == 200 and d.input_shape == (3, 64, 64) and len(d.y_test) == 3


def test_a_corrupt_archive_is_named(tmp_path: Path) -> None:
    path = tmp_path / "tinyimagenet" / tin.ARCHIVE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataFormatError, match="not a readable zip") as info:
        load_tinyimagenet(tmp_path)
    assert str(path) in str(info.value)
    assert not (tmp_path / "tinyimagenet" / tin.CACHE).exists()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda f: f.pop("wnids.txt"), "lacks the member tiny-imagenet-200/wnids.txt"),
        (lambda f: f.update({"val/images/val_1.JPEG": b"junk"}), "val_1.JPEG is not a readable"),
        (lambda f: f.update({"train/n01/images/n01_0.JPEG": _jpeg(0, size=32)}), "expected 64x64"),
        (lambda f: f.update({"val/val_annotations.txt": b"val_0.JPEG\tn09\n"}), "no known class"),
    ],
    ids=["no-wnids", "bad-jpeg", "wrong-size", "unknown-class"],
)
def test_damaged_contents_say_which_file(tmp_path: Path, change, match: str) -> None:
    files = fake_files()
    change(files)
    write_zip(tmp_path / "tinyimagenet" / tin.ARCHIVE, files)
    with pytest.raises(DataFormatError, match=match):
        load_tinyimagenet(tmp_path)


def test_a_damaged_cache_says_delete_it(tmp_path: Path) -> None:
    cache = tmp_path / "tinyimagenet" / tin.CACHE
    cache.parent.mkdir(parents=True)
    np.savez(cache, x_train=np.zeros((2, 3, 8, 8), np.uint8))
    with pytest.raises(DataFormatError, match="Delete it") as info:
        load_tinyimagenet(tmp_path)
    assert str(cache) in str(info.value)


def test_offline_and_missing_says_where_and_what(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    monkeypatch.setattr(tin, "MIRRORS", (refused_url + tin.ARCHIVE,))
    with pytest.raises(DataUnavailableError) as info:
        load_tinyimagenet(tmp_path / "empty")
    msg = str(info.value)
    folder = str((tmp_path / "empty" / "tinyimagenet").resolve())
    for expected_text in (folder, tin.ARCHIVE, "tiny-imagenet-200/", "wnids.txt",
                          "val/val_annotations.txt", "PCSEARCH_DATA_DIR", refused_url):  # fmt: skip
        assert expected_text in msg
    assert not any(p.is_file() for p in (tmp_path / "empty").rglob("*"))


def test_missing_zip_downloaded_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mirror: Mirror
) -> None:
    url, served = mirror
    zipped = write_zip(served / tin.ARCHIVE, fake_files())
    monkeypatch.setattr(tin, "MIRRORS", (url + "absent.zip", url + tin.ARCHIVE))
    monkeypatch.setattr(tin, "MD5", "0" * 32)
    with pytest.raises(DataFormatError, match="checksum"):
        load_tinyimagenet(tmp_path / "data")
    monkeypatch.setattr(tin, "MD5", hashlib.md5(zipped.read_bytes()).hexdigest())
    _, _, _, y_te, _ = load_tinyimagenet(tmp_path / "data")
    np.testing.assert_array_equal(y_te, [2, 0, 1])

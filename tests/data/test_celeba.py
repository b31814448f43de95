"""CelebA on a tiny fake aligned tree written here (a few 178x218 JPEGs and a partition
list), as a folder and as the zip; damaged files; nothing reaches the internet."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pcsearch.data import celeba, load_dataset
from pcsearch.data import datasets as ds
from pcsearch.data.celeba import load_celeba
from pcsearch.errors import DataFormatError, DataUnavailableError

COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 40), (90, 90, 90),
           (10, 160, 160), (250, 250, 250)]  # fmt: skip
PARTITION = [0, 0, 0, 0, 1, 2, 2]  # four training images, one for validation, two for test


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ds.DATA_DIR_ENV, raising=False)
    ds.clear_cache()
    yield
    ds.clear_cache()


def name(i: int) -> str:
    return f"{i + 1:06d}.jpg"


def jpeg(colour: tuple[int, int, int], band: bool = False) -> Image.Image:
    """A 178x218 image of one colour; with ``band``, its top 10 rows (which the crop drops)
    are black."""
    image = Image.new("RGB", celeba.SOURCE_SIZE, colour)
    if band:
        image.paste((0, 0, 0), (0, 0, 178, 10))
    return image


def write_tree(root: Path) -> Path:
    """`<root>/celeba/` with img_align_celeba/*.jpg and list_eval_partition.txt."""
    folder = root / "celeba"
    images = folder / celeba.FOLDER
    images.mkdir(parents=True)
    for i, colour in enumerate(COLOURS):
        jpeg(colour, band=i == 0).save(images / name(i), quality=95)
    lines = [f"{name(i)} {p}" for i, p in enumerate(PARTITION)]
    (folder / celeba.PARTITION).write_text("\n".join(lines) + "\n")
    return folder


def zip_tree(folder: Path) -> None:
    """Replace the extracted folder by the zip, its members under img_align_celeba/."""
    images = folder / celeba.FOLDER
    with zipfile.ZipFile(folder / celeba.ARCHIVE, "w") as z:
        for path in sorted(images.iterdir()):
            z.write(path, f"{celeba.FOLDER}/{path.name}")
            path.unlink()
    images.rmdir()


def colours(x: np.ndarray) -> np.ndarray:
    return np.round(x.mean(axis=(2, 3)) * 255)


# ------------------------------------------------------------------------- good files


def test_folder_is_cropped_resized_split_and_cached(tmp_path: Path) -> None:
    folder = write_tree(tmp_path)
    x_tr, y_tr, x_te, y_te, classes = load_celeba(tmp_path)
    assert x_tr.shape == (4, 3, 32, 32) and x_te.shape == (2, 3, 32, 32) and classes == 1
    assert (x_tr.dtype, y_tr.dtype) == (np.float32, np.int32) and not y_tr.any()
    assert x_tr.min() >= 0.0 and x_tr.max() <= 1.0 and not x_tr.flags.writeable
    np.testing.assert_allclose(colours(x_tr), np.array(COLOURS[:4], float), atol=3)
    np.testing.assert_allclose(colours(x_te), np.array(COLOURS[5:], float), atol=3)
    assert x_tr[0, 0].min() > 0.6  # red everywhere: the black band on top was cropped away

    cache = folder / celeba.CACHE
    assert cache.is_file()
    for path in (folder / celeba.FOLDER).iterdir():  # the cache alone must do now
        path.unlink()
    celeba.clear_cache()
    again = load_celeba(tmp_path)
    np.testing.assert_array_equal(again[0], x_tr)
    np.testing.assert_array_equal(again[2], x_te)


def test_zip_read_in_place_gives_the_same_images(tmp_path: Path) -> None:
    x_folder = load_celeba(write_tree(tmp_path / "a").parent)[0]
    zip_tree(write_tree(tmp_path / "b"))
    celeba.clear_cache()
    np.testing.assert_array_equal(load_celeba(tmp_path / "b")[0], x_folder)


def test_registered_as_a_dataset(tmp_path: Path) -> None:
    write_tree(tmp_path)
    d = load_dataset("celeba", tmp_path)
    assert d.name == "celeba" and d.input_shape == (3, 32, 32) and d.num_classes == 1


# -------------------------------------------------------------------------- bad files


def test_missing_set_says_where_and_what(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError) as info:
        load_celeba(tmp_path)
    message = str(info.value)
    for part in (str(tmp_path / "celeba"), celeba.ARCHIVE, celeba.PARTITION, "Google Drive"):
        assert part in message
    (tmp_path / "celeba" / celeba.FOLDER).mkdir(parents=True)
    with pytest.raises(DataUnavailableError, match=f"{celeba.PARTITION} is missing"):
        load_celeba(tmp_path)


def test_corrupt_jpeg_is_named(tmp_path: Path) -> None:
    folder = write_tree(tmp_path)
    (folder / celeba.FOLDER / name(2)).write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(DataFormatError, match=f"{name(2)} is not a readable JPEG"):
        load_celeba(tmp_path)
    assert not (folder / celeba.CACHE).exists()


def test_wrong_size_and_missing_image_are_named(tmp_path: Path) -> None:
    folder = write_tree(tmp_path)
    Image.new("RGB", (64, 64)).save(folder / celeba.FOLDER / name(5))
    with pytest.raises(DataFormatError, match=f"{name(5)} is 64x64, expected 178x218"):
        load_celeba(tmp_path)
    (folder / celeba.FOLDER / name(5)).unlink()
    with pytest.raises(DataFormatError, match=f"lacks {name(5)}"):
        load_celeba(tmp_path)


def test_bad_partition_line_is_named(tmp_path: Path) -> None:
    folder = write_tree(tmp_path)
    with open(folder / celeba.PARTITION, "a") as f:
        f.write("000008.jpg train\n")
    with pytest.raises(DataFormatError, match="line 8"):
        load_celeba(tmp_path)


def test_damaged_cache_and_zip_say_what_to_do(tmp_path: Path) -> None:
    folder = write_tree(tmp_path)
    (folder / celeba.CACHE).write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataFormatError, match="cache is damaged.*Delete it"):
        load_celeba(tmp_path)
    (folder / celeba.CACHE).unlink()
    zip_tree(folder)
    (folder / celeba.ARCHIVE).write_bytes(b"not a zip")
    with pytest.raises(DataFormatError, match="not a readable zip"):
        load_celeba(tmp_path)

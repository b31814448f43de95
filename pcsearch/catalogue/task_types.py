"""What a task is: its data, model, mode, metric, defaults and augmentation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pcsearch.catalogue.datasets import DATASETS
from pcsearch.catalogue.models import MODELS
from pcsearch.catalogue.modes import MODE_ALGORITHMS, MODES, Mode
from pcsearch.errors import RegistryError


@dataclass(frozen=True)
class Augmentation:
    """How training images are augmented on the device (the paper's Appendix B).

    Frozen and hashable: the training program takes it as a static argument, so each
    distinct augmentation compiles once. ``padding`` > 0: zero-pad, then crop back to the
    image size at a random offset (CIFAR: 4). ``crop``: a random ``crop`` x ``crop`` window
    without padding (Tiny ImageNet: 56 of 64); the model then sees ``crop``-sized inputs and
    the test set is centre-cropped to the same size once. ``flip``: mirror left-right with
    probability 1/2.
    """

    padding: int = 0
    crop: int | None = None
    flip: bool = False

    def __post_init__(self) -> None:
        if self.padding < 0 or (self.crop is not None and self.crop < 1):
            raise ValueError(f"bad augmentation {self!r}: padding >= 0 and crop >= 1")
        if self.padding and self.crop is not None:
            raise ValueError(f"bad augmentation {self!r}: pad-and-crop or crop, not both")

    @property
    def active(self) -> bool:
        return bool(self.padding or self.crop is not None or self.flip)

    def input_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape a model sees for images of ``shape`` ([C, H, W]): cropped or not."""
        if self.crop is None:
            return tuple(shape)
        return (*shape[:-2], self.crop, self.crop)


NO_AUGMENTATION = Augmentation()
CIFAR_AUGMENTATION = Augmentation(padding=4, flip=True)
"""Appendix B: random 32x32 crops of the image padded by 4, horizontal flips."""
TINYIMAGENET_AUGMENTATION = Augmentation(crop=56, flip=True)
"""Appendix B: random 56x56 crops (no padding) and flips; the test set centre-cropped."""


@dataclass(frozen=True)
class TaskInfo:
    name: str
    dataset: str
    """A key of ``DATASETS`` (pcsearch/catalogue/datasets.py)."""
    model: str
    """A key of ``MODELS`` (pcsearch/catalogue/models.py)."""
    summary: str
    metric: Literal["accuracy", "mse", "mmd"] = "accuracy"
    direction: Literal["maximize", "minimize"] = "maximize"
    defaults: dict[str, Any] = field(default_factory=dict)
    augmentation: Augmentation = NO_AUGMENTATION
    """What happens to training images on the device (and the test set's crop, if any)."""
    mode: Mode = "discriminative"
    """What the network learns and what is clamped: a key of ``MODES``."""

    def __post_init__(self) -> None:
        for kind, value, table, where in (
            ("dataset", self.dataset, DATASETS, "datasets.py"),
            ("model", self.model, MODELS, "models.py"),
            ("mode", self.mode, MODES, "modes.py"),
        ):
            if value not in table:
                raise RegistryError(
                    f"task {self.name!r} names {kind} {value!r}, which pcsearch/catalogue/"
                    f"{where} does not describe; choose one of: {', '.join(table)}"
                )

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The algorithms this task can train with."""
        return MODE_ALGORITHMS[self.mode]

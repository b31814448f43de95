"""What a task is: its data, model, mode, metric, defaults and augmentation."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pcsearch.catalogue.datasets import DATASETS
from pcsearch.catalogue.models import MODELS
from pcsearch.catalogue.modes import MODE_ALGORITHMS, MODES, Mode
from pcsearch.errors import RegistryError

Direction = Literal["maximize", "minimize"]
"""Whether a task's metric is better high (accuracy) or low (mse, mmd)."""


@dataclass(frozen=True)
class Augmentation:
    """How training images are augmented on the device (the paper's Appendix B).

    Frozen and hashable: the training program takes it as a static argument, so each
    distinct augmentation compiles once. ``padding`` > 0: pad, then crop back to the image
    size at a random offset (CIFAR: 4). ``crop``: a random ``crop`` x ``crop`` window
    without padding (Tiny ImageNet: 56 of 64); the model then sees ``crop``-sized inputs and
    the test set is centre-cropped to the same size once. ``flip``: mirror left-right with
    probability 1/2. ``rotation`` > 0: rotate by an angle drawn uniformly from
    [-rotation, rotation] degrees, nearest neighbour (torchvision's RandomRotation, which the
    paper's VGG-19 scripts apply after the flip).
    """

    padding: int = 0
    crop: int | None = None
    flip: bool = False
    rotation: float = 0.0
    """Largest rotation in degrees; 0: none."""
    fill: Literal["black", "mean"] = "black"
    """What the padding and a rotation's uncovered corners hold. ``black``: raw black as the
    data set's normalisation maps it, (0 - mean) / std per channel (the paper's code pads
    and rotates the raw image with 0 before normalising). ``mean``: 0 of the normalised
    image, the mean colour (what pcsearch padded with before issue 15)."""
    dataset: str | None = None
    """Whose normalisation defines black: the task's, bound when a run is planned
    (``for_dataset``); the catalogue leaves it None."""

    def __post_init__(self) -> None:
        if self.padding < 0 or (self.crop is not None and self.crop < 1):
            raise ValueError(f"bad augmentation {self!r}: padding >= 0 and crop >= 1")
        if self.padding and self.crop is not None:
            raise ValueError(f"bad augmentation {self!r}: pad-and-crop or crop, not both")
        if not 0.0 <= self.rotation < 180.0:
            raise ValueError(f"bad augmentation {self!r}: rotation in [0, 180) degrees")
        if self.fill not in ("black", "mean"):
            raise ValueError(f"bad augmentation {self!r}: fill is 'black' or 'mean'")

    @property
    def active(self) -> bool:
        return bool(self.padding or self.crop is not None or self.flip or self.rotation)

    @property
    def fills(self) -> bool:
        """Whether some output pixels come from no input pixel (padding or rotation)."""
        return bool(self.padding or self.rotation)

    def for_dataset(self, dataset: str) -> Augmentation:
        """This augmentation with ``dataset``'s black as its fill."""
        return replace(self, dataset=dataset)

    def input_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape a model sees for images of ``shape`` ([C, H, W]): cropped or not."""
        if self.crop is None:
            return tuple(shape)
        return (*shape[:-2], self.crop, self.crop)


StateEnergy = Literal["sum", "mean"]
"""Which energy the states descend (``TaskInfo.state_energy``)."""

NO_AUGMENTATION = Augmentation()
CIFAR_AUGMENTATION = Augmentation(padding=4, flip=True)
"""Appendix B: random 32x32 crops of the image padded by 4 (with black, as the paper's code
pads the raw image), horizontal flips."""
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
    direction: Direction = "maximize"
    defaults: dict[str, Any] = field(default_factory=dict)
    augmentation: Augmentation = NO_AUGMENTATION
    """What happens to training images on the device (and the test set's crop, if any)."""
    mode: Mode = "discriminative"
    """What the network learns and what is clamped: a key of ``MODES``."""
    defaults_source: str | None = None
    """Where ``defaults`` come from (the paper's table, a file of its code, or ours)."""
    state_energy: StateEnergy = "sum"
    """Which energy the states descend, i.e. what the task's state learning rates are rates
    of: ``sum``, each example's own energy (the batch sum), or ``mean``, the batch-mean
    energy (a state gradient 1/batch_size as large). The paper's code does one or the other
    per script; its best values assume that script's. Reaches the runs as the
    ``state_energy`` default (set here only where it is not ``sum``)."""
    state_energy_source: str | None = None
    """The file of the paper's code that says which (None: not recorded)."""

    def __post_init__(self) -> None:
        given = self.defaults.get("state_energy", self.state_energy)
        if given != self.state_energy:
            raise RegistryError(
                f"task {self.name!r}: defaults set state_energy={given!r} but the task says "
                f"{self.state_energy!r}; set TaskInfo.state_energy only"
            )
        if self.state_energy != "sum":
            object.__setattr__(
                self, "defaults", {**self.defaults, "state_energy": self.state_energy}
            )
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

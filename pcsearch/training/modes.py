"""A task's mode, parsed once: what its networks clamp and how they are scored.

The catalogue names the mode as a string (``TaskInfo.mode``); this turns it into values
the core uses: the clamping of PC networks, the clamping of the BP baseline (an
autoencoder in generative tasks), the test-set evaluation, and, where a mode trains on a
part of the data (associative memory), which part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pcsearch.algorithms import AUTOENCODER, CONDITIONAL, DISCRIMINATIVE, GENERATIVE, Clamping
from pcsearch.catalogue import ALGORITHMS, MODES, TaskInfo
from pcsearch.catalogue.registry import check_registry
from pcsearch.training.device_data import DeviceData
from pcsearch.training.evaluation import Classification, Evaluation, Reconstruction
from pcsearch.training.memory import memory_data, recall_evaluation
from pcsearch.training.sampling import sampling_evaluation, with_digit_scores


@dataclass(frozen=True)
class ModeSetup:
    pc: Clamping
    bp: Clamping
    evaluation: Callable[[TaskInfo, int, Mapping[str, Any]], Evaluation]
    """(task, number of classes, resolved hyperparameters) -> the evaluation."""
    prepare: Callable[[DeviceData, TaskInfo, Mapping[str, Any], int], DeviceData] | None = None
    """(the task's data, task, hyperparameters, the run's data seed) -> the data the mode
    trains and is tested on; None: the data as loaded."""
    evaluate_every_epoch: bool = True
    """False: evaluate only after the last epoch (an evaluation that costs more than
    training, like associative-memory recall)."""
    real_data_scores: Callable[[Evaluation, TaskInfo, str | None], Evaluation] | None = None
    """(evaluation, task, data directory) -> the evaluation with the scores that need real
    data (MCPC on MNIST: FID and IS from pcsearch's MNIST classifier); not for synthetic
    runs. None: none."""

    def clamping(self, algorithm: str) -> Clamping:
        return self.bp if ALGORITHMS[algorithm].family == "bp" else self.pc


SETUPS: dict[str, ModeSetup] = {
    "discriminative": ModeSetup(
        DISCRIMINATIVE,
        DISCRIMINATIVE,
        lambda task, classes, params: Classification(top_k=5 if classes > 10 else 1),
    ),
    "autoencoder": ModeSetup(
        GENERATIVE, AUTOENCODER, lambda task, classes, params: Reconstruction()
    ),
    # MCPC only (no BP baseline): h_0 free, or clamped to the label; the data at the top.
    "sampling": ModeSetup(
        GENERATIVE, GENERATIVE, sampling_evaluation, real_data_scores=with_digit_scores
    ),
    "conditional-sampling": ModeSetup(
        CONDITIONAL, CONDITIONAL, sampling_evaluation, real_data_scores=with_digit_scores
    ),
    # PC only: h_0 free, the images at the top; trained and tested on the same few images.
    "memory": ModeSetup(
        GENERATIVE,
        GENERATIVE,
        lambda task, classes, params: recall_evaluation(task, params),
        prepare=memory_data,
        evaluate_every_epoch=False,
    ),
}


"""One setup per mode of ``pcsearch.catalogue.MODES`` (checked below)."""

check_registry(
    "mode",
    SETUPS,
    MODES,
    registry_at="pcsearch.training.modes.SETUPS",
    catalogue_at="pcsearch/catalogue/modes.py",
)


def mode_of(task: TaskInfo) -> ModeSetup:
    """The setup of the task's mode (the catalogue checks that the mode exists)."""
    return SETUPS[task.mode]

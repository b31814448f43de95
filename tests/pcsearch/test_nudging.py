"""Nudging's beta schedule at |beta| = 1: plain PC (+1) or clipped at sign * 1, by name.

The paper's code does both: its v0.6.1 MLP scripts clip a negative beta at -1; its VGG
scripts, its later PC.py (the runner its hps/ README names for Table 1's configurations)
and Appendix B's text set it to +1, plain PC.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from pcsearch.algorithms import Nudging, make_algorithm
from pcsearch.hyperparams import TracedHyperparameters
from pcsearch.params import resolve

KEY = jax.random.PRNGKey(0)
NEGATIVE = TracedHyperparameters.from_params({"beta": 0.9, "beta_increment": 0.02})
"""beta = -(0.9 + 0.02 epoch): Fashion-MNIST NN's best values, |beta| = 1 from epoch 5."""


def _betas(nudge: Nudging, epochs: range) -> list[float]:
    return [float(nudge.beta(NEGATIVE, jnp.int32(e), KEY)) for e in epochs]


def test_clip_keeps_negative_nudging_at_minus_one_once_it_gets_there() -> None:
    betas = _betas(Nudging(sign=-1, beta_limit="clip"), range(25))
    assert betas[:4] == pytest.approx([-0.9, -0.92, -0.94, -0.96])
    reached = next(e for e, b in enumerate(betas) if b == -1.0)
    assert reached in (5, 6)  # 0.9 + 0.02 * 5 is 1 up to float32 rounding
    assert betas[reached:] == [-1.0] * (25 - reached)


def test_plain_pc_turns_it_positive_and_is_the_default() -> None:
    betas = _betas(Nudging(sign=-1, beta_limit="plain-pc"), range(25))
    assert betas[:4] == pytest.approx([-0.9, -0.92, -0.94, -0.96])
    assert betas[6:] == [1.0] * 19
    assert _betas(Nudging(sign=-1), range(25)) == betas


def test_positive_nudging_ends_at_plus_one_either_way() -> None:
    for limit in ("clip", "plain-pc"):
        assert _betas(Nudging(sign=1, beta_limit=limit), range(6, 9)) == [1.0] * 3


def test_the_builder_passes_beta_limit_and_refuses_an_unknown_one() -> None:
    params = resolve("mlp-fashionmnist", "nn")
    assert make_algorithm("nn", params).nudging == Nudging(sign=-1, beta_limit="plain-pc")
    clipped = make_algorithm("nn", {**params, "beta_limit": "clip"})
    assert clipped.nudging == Nudging(sign=-1, beta_limit="clip")
    assert resolve("mlp-fashionmnist", "nn", {"beta_limit": "clip"})["beta_limit"] == "clip"
    with pytest.raises(ValueError, match="beta_limit='stop'.*plain-pc, clip"):
        Nudging(sign=-1, beta_limit="stop")  # type: ignore[arg-type]

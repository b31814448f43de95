"""Optimisers for states and weights, built from traced hyperparameters.

They are rebuilt inside the compiled step from the traced values, which is cheap: an
Optax transformation is a pair of pure functions.
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import optax

from pcsearch.hyperparams import TracedHyperparameters

# The paper's weight schedule as a multiplier of weight_lr: start at 1, peak at 1.1 after
# 10% of the updates, end at 0.1.
WARMUP_FRACTION = 0.1
PEAK_FACTOR = 1.1
END_FACTOR = 0.1


def state_optimizer(
    kind: Literal["sgd", "adam"], hp: TracedHyperparameters
) -> optax.GradientTransformation:
    if kind == "adam":
        return optax.adam(hp.state_lr, b1=hp.state_momentum)
    return optax.sgd(hp.state_lr, momentum=hp.state_momentum)


class WeightOptimizer(eqx.Module):
    """Which weight optimiser and schedule, and how many updates the schedule spans (static).

    ``warmup-cosine`` is the paper's discriminative schedule; ``constant`` is what its
    energy and stability studies (Section 5, Appendix D) use.
    """

    kind: Literal["adamw", "sgd"] = eqx.field(static=True)
    total_updates: int = eqx.field(static=True)
    schedule_kind: Literal["warmup-cosine", "constant"] = eqx.field(
        static=True, default="warmup-cosine"
    )

    def schedule(self) -> optax.Schedule:
        if self.schedule_kind == "constant":
            return optax.constant_schedule(1.0)
        warmup = max(1, int(WARMUP_FRACTION * self.total_updates))
        return optax.warmup_cosine_decay_schedule(
            init_value=1.0,
            peak_value=PEAK_FACTOR,
            warmup_steps=warmup,
            decay_steps=max(warmup + 1, self.total_updates),
            end_value=END_FACTOR,
        )

    def build(self, hp: TracedHyperparameters) -> optax.GradientTransformation:
        factor = self.schedule()
        lr = lambda count: hp.weight_lr * factor(count)
        if self.kind == "sgd":
            return optax.chain(
                optax.add_decayed_weights(hp.weight_decay),
                optax.sgd(lr, momentum=hp.weight_momentum),
            )
        return optax.adamw(lr, weight_decay=hp.weight_decay)

"""``train_batched``: K trials in one vmapped program give each member its own ``train`` run.

Workers rely on this when they claim a batch of trials (``--batch K``).
"""

from __future__ import annotations

import numpy as np
import pytest

from pcsearch.errors import PCSearchError
from pcsearch.training import train, train_batched

TASK, ALGORITHM = "mlp-digits", "pc-se"
TEST_EXAMPLES = 899  # digits' test split: accuracies are multiples of 1/899

# Shared structure; T=20 so that a huge state_lr really overflows (see the divergence test
# of the CLI): with fewer steps the states stay finite. Epochs are cut to a few batches.
BASE = {"T": 20, "epochs": 2}
BATCHES = 4
MEMBERS = [
    {**BASE, "state_lr": 0.05, "weight_lr": 3e-3, "state_momentum": 0.5, "weight_decay": 1e-4},
    {**BASE, "state_lr": 0.02, "weight_lr": 1e-3, "state_momentum": 0.8, "weight_decay": 1e-3},
    {**BASE, "state_lr": 0.1, "weight_lr": 5e-3, "state_momentum": 0.2, "weight_decay": 1e-2},
]
DIVERGING = {**BASE, "state_lr": 90.0, "weight_lr": 1e-3, "state_momentum": 0.5}


@pytest.mark.slow
def test_batched_members_equal_separate_runs_and_diverge_alone() -> None:
    seen: list[tuple[int, int]] = []

    def on_epoch(member: int, record) -> bool:
        seen.append((member, record.epoch))
        return False

    batched = train_batched(
        TASK,
        ALGORITHM,
        [*MEMBERS, DIVERGING],
        seeds=[0, 1, 2, 3],
        on_epoch=on_epoch,
        max_batches=BATCHES,
    )
    assert len(batched) == 4

    for seed, (params, got) in enumerate(zip(MEMBERS, batched[:3], strict=True)):
        alone = train(TASK, ALGORITHM, params, seed=seed, data_seed=0, max_batches=BATCHES)
        assert got.status == alone.status == "completed"
        assert got.seed == seed
        assert got.params == alone.params
        assert [h.epoch for h in got.history] == [1, 2]
        for mine, theirs in zip(got.history, alone.history, strict=True):
            # Floating-point order may differ between the vmapped and the single program:
            # at most a couple of test examples flip, energies agree closely.
            assert abs(mine.value - theirs.value) <= 2 / TEST_EXAMPLES + 1e-6, (seed, mine.epoch)
            np.testing.assert_allclose(mine.energy_per_layer, theirs.energy_per_layer, rtol=1e-3)
        assert got.value == pytest.approx(alone.value, abs=2 / TEST_EXAMPLES + 1e-6)
    # The members really trained differently.
    assert len({r.history[-1].energy_per_layer[-1] for r in batched[:3]}) == 3

    bad = batched[3]
    assert bad.status == "diverged"
    assert bad.reason.startswith("diverged at epoch 1")
    assert bad.value is None and len(bad.history) == 1
    # Every healthy member was reported every epoch; the diverged one never reached on_epoch.
    assert sorted(seen) == [(m, e) for m in range(3) for e in (1, 2)]


@pytest.mark.slow
def test_on_epoch_stops_one_member_only() -> None:
    # The same four members as above, so the compiled program is reused.
    results = train_batched(
        TASK,
        ALGORITHM,
        [*MEMBERS, DIVERGING],
        seeds=[0, 1, 2, 3],
        on_epoch=lambda i, r: i == 0,
        max_batches=BATCHES,
    )
    assert results[0].status == "stopped" and results[0].reason == "stopped after epoch 1"
    assert len(results[0].history) == 1
    assert [r.status for r in results[1:]] == ["completed", "completed", "diverged"]
    assert [len(r.history) for r in results[1:]] == [2, 2, 1]


def test_members_with_different_structure_are_refused() -> None:
    members = [{**MEMBERS[0], "T": 8}, {**MEMBERS[1], "T": 12}]
    with pytest.raises(PCSearchError) as info:
        train_batched(TASK, ALGORITHM, members, seeds=[0, 1])
    message = str(info.value)
    assert "member 1" in message and "['T']" in message
    assert "state_lr" in message  # what batched members may differ in


def test_one_seed_per_member() -> None:
    with pytest.raises(PCSearchError, match="got 1 seeds for 2 members"):
        train_batched(TASK, ALGORITHM, MEMBERS[:2], seeds=[0])


def test_no_members_is_refused() -> None:
    with pytest.raises(PCSearchError, match="at least one member"):
        train_batched(TASK, ALGORITHM, [])

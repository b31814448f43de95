"""Every epoch loop gives the same numbers; ``auto`` takes the measured table's choice.

The loops differ only in how the batches are driven (one scan per epoch, one jitted step
per batch, an unrolled scan), so accuracy, energies and trained parameters agree up to
float32 round-off: XLA may pick other kernels for a convolution inside a loop body than
outside one, so the VGG's numbers are compared at round-off tolerance, not bit for bit,
and with SGD weights (AdamW divides a near-zero gradient by its own square root, which
turns round-off in a weight's gradient into a visible difference in its update).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from pcsearch.errors import PCSearchError
from pcsearch.training import train_batched
from pcsearch.training.epoch_loop import CHOICES, choose_epoch_loop, unroll_inference
from pcsearch.training.run import epoch_loop_for, make_plan

MLP = ("mlp-two-circles", "pc-se", {"epochs": 2, "T": 3, "hidden_width": 16})
VGG = ("vgg5-cifar100", "pc-ce", {"epochs": 2, "T": 2, "batch_size": 4, "weight_optimizer": "sgd"})
"""tests/pcsearch/test_conv_models.py's VGG-5 epoch, so its one-batch step compiles once."""


def _run(task, algorithm, params, loop, members=1, **kwargs):
    """Histories and final parameters of ``members`` trials trained with ``loop``."""
    finals = []
    others = [
        params | {"state_lr": params.get("state_lr", 0.05) * (1 + i)} for i in range(1, members)
    ]
    results = train_batched(
        task,
        algorithm,
        [params, *others] if members > 1 else [params],
        seeds=list(range(members)),
        epoch_loop=loop,
        on_finish=lambda plan, model, hp: finals.append(jax.tree.leaves(model)),
        **kwargs,
    )
    return results, finals


def _assert_same(a, b, rtol, atol):
    (results_a, finals_a), (results_b, finals_b) = a, b
    for ra, rb in zip(results_a, results_b, strict=True):
        assert ra.status == rb.status == "completed"
        assert [h.value for h in ra.history] == pytest.approx(
            [h.value for h in rb.history], rel=rtol, abs=atol
        )
        for ha, hb in zip(ra.history, rb.history, strict=True):
            np.testing.assert_allclose(ha.energy_per_layer, hb.energy_per_layer, rtol, atol)
    for fa, fb in zip(finals_a, finals_b, strict=True):
        for la, lb in zip(fa, fb, strict=True):
            np.testing.assert_allclose(np.asarray(la), np.asarray(lb), rtol, atol)


@pytest.mark.parametrize("members", [1, 2])
def test_mlp_loops_give_the_same_numbers(members):
    task, algorithm, params = MLP
    cut = {"max_batches": 6}  # keeps the unrolled epoch's compile short
    scan = _run(task, algorithm, params, "scan", members, **cut)
    steps = _run(task, algorithm, params, "steps", members, **cut)
    _assert_same(scan, steps, 1e-5, 1e-6)
    for (results, _), loop in ((scan, "scan"), (steps, "steps")):  # each result names its loop
        assert {r.environment["epoch_loop"] for r in results} == {loop}
    if members == 1:
        _assert_same(scan, _run(task, algorithm, params, "unrolled", members, **cut), 1e-5, 1e-6)


@pytest.mark.slow  # a minute on two cores: the scan's convolutions are the slow case
def test_vgg5_loops_give_the_same_numbers():
    """One trial (the MLP's test covers K batched trials under every loop): two epochs of
    one batch each, as few scan steps as show the loop; the settings are those of
    test_conv_models.py's VGG-5 epoch, so the steps loop finds its programs cached."""
    task, algorithm, params = VGG
    kwargs = {"synthetic": True, "max_batches": 1}
    scan = _run(task, algorithm, params, "scan", **kwargs)
    _assert_same(scan, _run(task, algorithm, params, "steps", **kwargs), 1e-4, 1e-6)


def test_loops_differ_where_the_numbers_differ():
    """The comparison can fail: another seed's parameters are not 'the same numbers'."""
    task, algorithm, params = MLP
    a = _run(task, algorithm, params, "scan")
    b = train_batched(task, algorithm, [params], seeds=[1], epoch_loop="steps")
    with pytest.raises(AssertionError):
        _assert_same(a, (b, a[1]), 1e-5, 1e-6)


def test_auto_takes_the_tables_choice_for_a_conv_model_on_the_cpu():
    plan = make_plan("vgg5-cifar10", "pc-ce", {"batch_size": 4}, None, True, 1)
    chosen = CHOICES[("cpu", "conv")]
    assert jax.default_backend() == "cpu"
    assert epoch_loop_for(plan, "auto")[1] == chosen.loop == "steps"
    assert epoch_loop_for(plan, "auto")[0].algorithm.inference_unroll is chosen.unroll_inference
    scan_plan, loop = epoch_loop_for(plan, "scan")  # the override wins
    assert loop == "scan" and scan_plan.algorithm.inference_unroll == 1  # as before
    assert choose_epoch_loop("auto", "cpu", "mlp") == CHOICES[("cpu", "dense")].loop == "scan"
    assert choose_epoch_loop("auto", "gpu", "vgg5") == "scan"  # not measured: the fallback
    assert not unroll_inference("gpu", "vgg5", "steps")
    assert unroll_inference("cpu", "vgg5", "steps") and not unroll_inference("cpu", "mlp", "steps")


def test_an_unknown_loop_is_refused_naming_the_choices():
    with pytest.raises(PCSearchError, match="epoch_loop='fast'.*auto, scan, steps"):
        train_batched(*MLP[:2], [MLP[2]], epoch_loop="fast")


def test_train_command_passes_its_epoch_loop_to_the_trainer(monkeypatch):
    from pcsearch.training import run
    from pcsearch_cli import train_cmd
    from pcsearch_cli.main import build_parser

    seen = []

    def fake_train(*args, **kwargs):
        seen.append(kwargs["epoch_loop"])
        raise SystemExit(0)

    monkeypatch.setattr(run, "train", fake_train)
    base = ["train", "--task", "mlp-two-circles", "--algorithm", "pc-se", "--json"]
    for extra, expected in (([], "auto"), (["--epoch-loop", "steps"], "steps")):
        args = build_parser().parse_args([*base, *extra])
        with pytest.raises(SystemExit):
            train_cmd.run(args)
        assert seen[-1] == expected
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args([*base, "--epoch-loop", "fast"])
    assert refused.value.code == 2

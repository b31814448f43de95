"""The shipped spaces hold the ranges the paper states, and the registry finds them."""

from __future__ import annotations

import re

import pytest

from pcsearch.catalogue import ALGORITHMS, TASKS
from pcsearch.params import PAPER_BEST, resolve
from search_spaces import (
    CategoricalParam,
    FixedParam,
    FloatParam,
    IntParam,
    SearchSpace,
    SearchSpaceError,
    default_space,
    get_space,
    list_spaces,
)

IMPLEMENTED = [a for a, info in ALGORITHMS.items() if info.implemented]


def log_range(space: SearchSpace, name: str) -> tuple[float, float]:
    p = space.params[name]
    assert isinstance(p, FloatParam) and p.log and p.step is None, (name, p)
    return (p.low, p.high)


def choices(space: SearchSpace, name: str) -> set:
    p = space.params[name]
    assert isinstance(p, CategoricalParam), (name, p)
    return set(p.choices)


def fixed(space: SearchSpace, name: str) -> object:
    p = space.params[name]
    assert isinstance(p, FixedParam), (name, p)
    return p.value


# -- registry -----------------------------------------------------------------------------


def test_registry_lists_the_paper_spaces() -> None:
    names = {s.name for s in list_spaces()}
    assert {
        "discriminative-pc", "discriminative-ipc", "discriminative-nudging", "discriminative-bp",
        "discriminative-small-pc", "discriminative-small-ipc", "discriminative-small-nudging",
        "discriminative-small-bp", "autoencoder-linear-pc", "autoencoder-linear-ipc",
        "autoencoder-linear-bp", "autoencoder-deconv-pc", "autoencoder-deconv-ipc",
        "autoencoder-deconv-bp", "mcpc", "vgg19-skip", "vgg19-plain", "associative-memory",
        "energy-study", "energy-propagation-fashionmnist", "energy-propagation-moons-circles",
        "training-stability-fashionmnist", "training-stability-two-moons",
    } == names  # fmt: skip
    refs = [s.ref for s in list_spaces()]
    assert len(refs) == len(set(refs))


@pytest.mark.parametrize("space", list_spaces(), ids=lambda s: s.ref)
def test_every_space_cites_the_paper(space: SearchSpace) -> None:
    assert re.search(r"(Table \d+|Appendix [A-Z](\.\d+)?|Section \d+) of the paper", space.source)
    assert space.description


def test_get_space_by_name_and_version() -> None:
    assert get_space("mcpc") == get_space("mcpc@1")
    assert get_space("mcpc").ref == "mcpc@1"


def test_unknown_space_lists_names() -> None:
    with pytest.raises(SearchSpaceError) as caught:
        get_space("discriminative")
    msg = str(caught.value)
    assert "'discriminative'" in msg and "discriminative-pc" in msg and "mcpc" in msg
    with pytest.raises(SearchSpaceError, match="'mcpc@9'"):
        get_space("mcpc@9")


NO_SPACE = ("mcpc-iris",)
"""Appendix C.2 gives the iris model fixed values; Table 10 searches MNIST only."""
SUPPORTED = [
    (t, a)
    for t, info in TASKS.items()
    for a in IMPLEMENTED
    if a in info.algorithms and t not in NO_SPACE
]


@pytest.mark.parametrize(("task", "algorithm"), SUPPORTED)
def test_default_space_for_every_catalogue_pair(task: str, algorithm: str) -> None:
    space = default_space(task, algorithm)
    space.check_for(task, algorithm)
    assert algorithm in space.algorithms
    family = ALGORITHMS[algorithm].family
    if family == "mcpc":  # Table 10, for both MNIST tasks
        assert space.ref == "mcpc@1"
        return
    if TASKS[task].mode == "autoencoder":  # Tables 8 and 9
        kind = "linear" if TASKS[task].model == "ae-linear" else "deconv"
        assert space.name == f"autoencoder-{kind}-{family}"
        assert log_range(space, "weight_lr")[1] == 1e-3
        return
    if TASKS[task].mode == "memory":  # Appendix C.3's grid
        assert space.ref == "associative-memory@2"
        return
    small = task in ("mlp-digits", "mlp-two-moons", "mlp-two-circles")
    assert space.name == f"discriminative-{'small-' if small else ''}{family}"
    assert log_range(space, "weight_lr")[1] == (1e-2 if small else 3e-4)


def test_a_task_without_a_shipped_space_is_told_to_write_one() -> None:
    with pytest.raises(SearchSpaceError, match="'mcpc-iris'.*write one"):
        default_space("mcpc-iris", "mcpc")


def test_default_space_refuses_unknown_and_unimplemented() -> None:
    with pytest.raises(SearchSpaceError, match="unknown task"):
        default_space("mlp-nope", "pc-se")
    with pytest.raises(SearchSpaceError, match="'mcpc'"):
        default_space("mlp-mnist", "mcpc")


@pytest.mark.parametrize(("task", "algorithm"), sorted(PAPER_BEST))
def test_paper_best_values_lie_inside_the_default_space(task: str, algorithm: str) -> None:
    """Table 7's implied ranges must contain the best values they were inferred from."""
    space = default_space(task, algorithm)
    distributions = space.distributions(algorithm)
    for name, value in PAPER_BEST[(task, algorithm)].items():
        dist = distributions[name]
        assert dist._contains(dist.to_internal_repr(value)), (name, value, dist)


# -- Table 7 (implied by the best values) -------------------------------------------------


def test_table7_pc_and_nudging_ranges() -> None:
    """Table 7 (implied): T in [4, 12], state_lr log (1e-2, 5e-1), weight_lr (1e-5, 3e-4),
    weight_decay (1e-5, 1e-2), momentum [0, 0.95] step 0.05, batch 128."""
    for name in ("discriminative-pc", "discriminative-nudging"):
        space = get_space(name)
        t = space.params["T"]
        assert isinstance(t, IntParam) and (t.low, t.high) == (4, 12)
        assert log_range(space, "state_lr") == (1e-2, 0.5)
        assert log_range(space, "weight_lr") == (1e-5, 3e-4)
        assert log_range(space, "weight_decay") == (1e-5, 1e-2)
        m = space.params["state_momentum"]
        assert (m.low, m.high, m.step) == (0.0, 0.95, 0.05)
        assert choices(space, "activation") == {"gelu", "leaky_relu", "hard_tanh"}
        assert fixed(space, "batch_size") == 128
        assert fixed(space, "state_optimizer") == "sgd"
        assert fixed(space, "weight_optimizer") == "adamw"
        assert fixed(space, "init") == "forward"
        assert "epochs" not in space.params and "hidden_width" not in space.params


def test_table7_ipc_ranges() -> None:
    """Table 7 (implied): iPC state_lr log (1e-2, 1.0), weight_decay log (1e-5, 1e-1)."""
    space = get_space("discriminative-ipc")
    assert log_range(space, "state_lr") == (1e-2, 1.0)
    assert log_range(space, "weight_decay") == (1e-5, 1e-1)


def test_table7_nudging_beta() -> None:
    """Table 7 (implied): beta in [0.1, 1], increment {0, 0.02}, only for nudging; version 2
    searches beta continuously (the paper's VGG-5 betas 0.323 and 0.179 are off a grid)."""
    space = get_space("discriminative-nudging")
    beta = space.params["beta"]
    assert (beta.low, beta.high, beta.step) == (0.1, 1.0, None)
    assert get_space("discriminative-nudging@1").params["beta"].step == 0.05
    assert choices(space, "beta_increment") == {0.0, 0.02}
    assert beta.only_for == ("pn", "nn", "cn")
    assert "beta" not in get_space("discriminative-pc").params


def test_table7_bp_searches_only_weights_and_activation() -> None:
    space = get_space("discriminative-bp")
    assert set(space.distributions("bp-ce")) == {"activation", "weight_lr", "weight_decay"}


def test_small_variants_differ_only_in_weight_lr_and_batch() -> None:
    for family in ("pc", "ipc", "nudging", "bp"):
        paper, small = (
            get_space(f"discriminative-{family}"),
            get_space(f"discriminative-small-{family}"),
        )
        assert log_range(small, "weight_lr") == (1e-4, 1e-2)
        rest = {k: v for k, v in paper.params.items() if k not in ("weight_lr", "batch_size")}
        assert {k: v for k, v in small.params.items() if k != "weight_lr"} == rest
        assert "batch_size" not in small.params


# -- Tables 8 and 9: autoencoders ---------------------------------------------------------


def test_table8_deconv_autoencoder() -> None:
    """Table 8: kernel sizes {3, 4, 5, 7}, T = 20, batch 200, 30 epochs, five activations."""
    for family in ("pc", "ipc", "bp"):
        space = get_space(f"autoencoder-deconv-{family}")
        assert choices(space, "kernel_size") == {3, 4, 5, 7}
        assert fixed(space, "batch_size") == 200
        assert fixed(space, "epochs") == 30
        assert choices(space, "activation") == {"relu", "leaky_relu", "gelu", "tanh", "hard_tanh"}
        assert log_range(space, "weight_lr") == (3e-5, 1e-3)
        if family != "bp":
            assert fixed(space, "T") == 20
        else:
            assert "T" not in space.params


@pytest.mark.parametrize("kind", ["linear", "deconv"])
def test_tables_8_9_state_lr_and_weight_decay_by_column(kind: str) -> None:
    """Tables 8/9: lr_h (1e-2, 5e-1) PC / (1e-2, 1.0) iPC; decay (1e-5, 1e-2) / (1e-5, 1e-1)."""
    pc, ipc = get_space(f"autoencoder-{kind}-pc"), get_space(f"autoencoder-{kind}-ipc")
    assert log_range(pc, "state_lr") == (1e-2, 0.5)
    assert log_range(ipc, "state_lr") == (1e-2, 1.0)
    assert log_range(pc, "weight_decay") == (1e-5, 1e-2)
    assert log_range(ipc, "weight_decay") == (1e-5, 1e-1)
    assert log_range(get_space(f"autoencoder-{kind}-bp"), "weight_decay") == (1e-5, 1e-2)
    m = pc.params["state_momentum"]
    assert (m.low, m.high, m.step) == (0.0, 0.95, 0.05)


def test_table9_linear_autoencoder() -> None:
    """Table 9: internal state dimension 64, T = 20, batch 200, 30 epochs, no kernel."""
    space = get_space("autoencoder-linear-pc")
    assert fixed(space, "latent_dim") == 64
    assert fixed(space, "T") == 20
    assert fixed(space, "batch_size") == 200
    assert "kernel_size" not in space.params


# -- Table 10: MCPC -----------------------------------------------------------------------


def test_table10_mcpc() -> None:
    """Table 10: gamma log-uniform (1e-4, 0.05), lr log-uniform (1e-4, 0.1), sigma_h^2
    log-uniform (0.03, 1.0), the listed sets, T = 1000."""
    space = get_space("mcpc")
    assert log_range(space, "state_lr") == (1e-4, 0.05)
    assert log_range(space, "weight_lr") == (1e-4, 0.1)
    assert log_range(space, "input_var") == (0.03, 1.0)
    assert choices(space, "activation") == {"relu", "silu", "tanh", "leaky_relu", "hard_tanh"}
    assert choices(space, "state_momentum") == {0.0, 0.9}
    assert choices(space, "h_var") == {1.0, 0.3, 0.01, 0.001}
    assert choices(space, "weight_decay") == {0.0, 0.1, 0.01, 0.001, 0.0001}
    assert choices(space, "batch_size") == {150, 300, 600, 900}
    assert fixed(space, "T") == 1000
    assert space.algorithms == ("mcpc",)


# -- Table 11: VGG-19 ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vgg19-skip", "vgg19-plain"])
def test_table11_vgg19(name: str) -> None:
    """Table 11: T {24, 36}, state lr {5e-2, 1e-1, 5e-1}, momentum {0, 0.5, 0.9, 0.99},
    decay {5e-4, 1e-4, 5e-5}, weight lr 1e-4, 30 epochs, batch 128."""
    space = get_space(name)
    assert space.kind == "grid"
    assert choices(space, "T") == {24, 36}
    assert choices(space, "activation") == {"gelu", "leaky_relu"}
    assert choices(space, "state_lr") == {0.05, 0.1, 0.5}
    assert choices(space, "state_momentum") == {0.0, 0.5, 0.9, 0.99}
    assert choices(space, "weight_decay") == {5e-4, 1e-4, 5e-5}
    assert fixed(space, "weight_lr") == 1e-4
    assert fixed(space, "epochs") == 30
    assert fixed(space, "batch_size") == 128


# -- Appendix C.3: associative memory ------------------------------------------------------


def test_c3_associative_memory_grid() -> None:
    """Appendix C.3: 19 values each of lr = 1e-4 + k 5e-5 and gamma = 0.1 + k 0.05."""
    space = get_space("associative-memory@1")
    space.check_for("am-tinyimagenet", "pc-se")
    grid = space.grid("pc-se")
    assert grid["weight_lr"] == [round(1e-4 + k * 5e-5, 10) for k in range(19)]
    assert grid["state_lr"] == [round(0.1 + k * 0.05, 10) for k in range(19)]
    assert (grid["weight_lr"][-1], grid["state_lr"][-1]) == (1e-3, 1.0)
    assert grid["T"] == [20, 50, 100]
    assert grid["T_recall"] == [50000, 100000]
    assert space.fixed("pc-se") == {"activation": "tanh", "epochs": 500, "batch_size": 50}


def test_c3_grid_in_per_sample_state_rates() -> None:
    """Version 2: the paper's code steps states on the batch-mean energy, so its gamma is
    50 (the fixed batch) times a per-sample state_lr; the rest is version 1's."""
    v1, v2 = get_space("associative-memory@1"), get_space("associative-memory")
    assert v2.ref == "associative-memory@2"
    g1, g2 = v1.grid("pc-se"), v2.grid("pc-se")
    assert g2["state_lr"] == [round(g / 50, 10) for g in g1["state_lr"]]
    assert {k: v for k, v in g2.items() if k != "state_lr"} == {
        k: v for k, v in g1.items() if k != "state_lr"
    }
    assert v2.fixed("pc-se") == v1.fixed("pc-se") and v2.fixed("pc-se")["batch_size"] == 50
    for task in ("am-mnist", "am-tinyimagenet"):
        v2.check_for(task, "pc-se")
        params = resolve(task, "pc-se")
        for name, values in g2.items():
            assert params[name] in values, (task, name)


# -- Section 5 and Appendix D: energy and stability ---------------------------------------


def test_section5_energy_study() -> None:
    """Section 5 study: x lr log (1e-2, 5e-1), momentum [0, 1] step 0.05, w lr log
    (3e-5, 3e-4), wd log (1e-5, 1e-2), 32 epochs."""
    space = get_space("energy-study")
    assert log_range(space, "state_lr") == (1e-2, 0.5)
    m = space.params["state_momentum"]
    assert (m.low, m.high, m.step) == (0.0, 1.0, 0.05)
    assert log_range(space, "weight_lr") == (3e-5, 3e-4)
    assert log_range(space, "weight_decay") == (1e-5, 1e-2)
    assert fixed(space, "epochs") == 32
    assert choices(space, "activation") == {"leaky_relu", "gelu", "hard_tanh"}


@pytest.mark.parametrize(
    ("name", "widths"),
    [
        ("energy-propagation-fashionmnist", [512, 1024, 2048, 4096]),
        ("energy-propagation-moons-circles", [128, 256, 512, 1024]),
    ],
)
def test_d1_energy_propagation_grid(name: str, widths: list[int]) -> None:
    """Appendix D.1: 6 weight lrs x 7 state lrs x 2 activations x 4 weight momenta x 2
    optimisers x 4 widths, T = 8, 8 epochs, 2 hidden layers, a constant weight lr,
    cross-entropy at the output, state momentum and weight decay fixed."""
    space = get_space(name)
    assert space.algorithms == ("pc-ce",)
    grid = space.grid("pc-ce")
    assert grid["weight_lr"] == [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    assert grid["state_lr"] == [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0]
    assert set(grid["activation"]) == {"leaky_relu", "hard_tanh"}
    assert grid["weight_momentum"] == [0.0, 0.5, 0.9, 0.95]
    assert set(grid["weight_optimizer"]) == {"adamw", "sgd"}
    assert grid["hidden_width"] == widths
    assert space.grid_size("pc-ce") == 2688
    expected = {"hidden_layers": 2, "T": 8, "epochs": 8, "weight_schedule": "constant"}
    expected |= {"state_momentum": 0.0, "weight_decay": 0.0}
    assert expected.items() <= space.fixed("pc-ce").items()


@pytest.mark.parametrize(
    ("name", "weight_lr"),
    [("training-stability-fashionmnist", 0.01), ("training-stability-two-moons", 0.03)],
)
def test_d2_training_stability_grid(name: str, weight_lr: float) -> None:
    """Appendix D.2: widths 32..4096 (powers of two), gamma 1e-5, 3e-5, ..., 0.3, SGD or
    Adam(W) weights at lr 0.01 (FashionMNIST) / 0.03 (Two Moons), leaky_relu, T = 8."""
    space = get_space(name)
    grid = space.grid("pc-ce")
    assert grid["hidden_width"] == [2**k for k in range(5, 13)]
    assert grid["state_lr"] == [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3]
    assert set(grid["weight_optimizer"]) == {"sgd", "adamw"}
    assert fixed(space, "weight_lr") == weight_lr
    assert fixed(space, "activation") == "leaky_relu"
    assert fixed(space, "T") == 8 and fixed(space, "epochs") == 8
    assert fixed(space, "hidden_layers") == 2
    assert fixed(space, "weight_momentum") == 0.9
    assert fixed(space, "weight_schedule") == "constant"

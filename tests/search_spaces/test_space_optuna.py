"""Every paper space converts to Optuna; trials sample inside the ranges, grids are complete."""

from __future__ import annotations

import itertools
import warnings

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FixedTrial

from search_spaces import (
    CategoricalParam,
    FixedParam,
    FloatParam,
    IntParam,
    SearchSpace,
    get_space,
    list_spaces,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)

PAIRS = [(s, a) for s in list_spaces() for a in s.algorithms]
PAIR_IDS = [f"{s.ref}-{a}" for s, a in PAIRS]
KINDS = {
    FloatParam: FloatDistribution,
    IntParam: IntDistribution,
    CategoricalParam: CategoricalDistribution,
}

GRID_SIZES = {
    ("associative-memory", "pc-se"): 19 * 19 * 3 * 2,
    ("energy-propagation-fashionmnist", "pc-ce"): 6 * 7 * 2 * 4 * 2 * 4,
    ("energy-propagation-moons-circles", "pc-ce"): 6 * 7 * 2 * 4 * 2 * 4,
    ("training-stability-fashionmnist", "pc-ce"): 8 * 10 * 2,
    ("training-stability-fashionmnist", "bp-ce"): 8 * 2,
    ("training-stability-two-moons", "pc-ce"): 8 * 10 * 2,
    ("training-stability-two-moons", "bp-ce"): 8 * 2,
    ("vgg19-skip", "pc-se"): 2 * 3 * 4 * 3 * 2,
    ("vgg19-skip", "pc-ce"): 2 * 3 * 4 * 3 * 2,
    ("vgg19-plain", "pc-se"): 2 * 3 * 4 * 3 * 2,
    ("vgg19-plain", "pc-ce"): 2 * 3 * 4 * 3 * 2,
}


@pytest.mark.parametrize(("space", "algorithm"), PAIRS, ids=PAIR_IDS)
def test_every_space_converts(space: SearchSpace, algorithm: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Optuna warns when it has to adjust a range
        distributions = space.distributions(algorithm)
    fixed = space.fixed(algorithm)
    assert set(distributions).isdisjoint(fixed)
    assert set(distributions) | set(fixed) == set(space.param_names(algorithm))
    for name, dist in distributions.items():
        assert isinstance(dist, KINDS[type(space.params[name])]), name


def test_every_grid_space_has_the_expected_size() -> None:
    # the newest version of each space (older ones stay loadable for their studies)
    pairs = {(s.name, a) for s, a in PAIRS if s.kind == "grid" and s == get_space(s.name)}
    assert pairs == set(GRID_SIZES)
    for (name, algorithm), size in GRID_SIZES.items():
        space = get_space(name)
        grid = space.grid(algorithm)
        assert space.grid_size(algorithm) == size
        assert not set(grid) & set(space.fixed(algorithm))
        for values in grid.values():
            assert len(values) == len(set(values)), values


@pytest.mark.parametrize("name", ["vgg19-skip", "training-stability-two-moons"])
def test_grid_sampler_visits_every_point_once(name: str) -> None:
    space = get_space(name)
    algorithm = space.algorithms[0]
    grid = space.grid(algorithm)
    study = optuna.create_study(sampler=optuna.samplers.GridSampler(grid, seed=0))
    seen = []

    def objective(trial: optuna.Trial) -> float:
        values = space.suggest(trial, algorithm)
        assert space.fixed(algorithm).items() <= values.items()
        seen.append(tuple(values[n] for n in grid))
        return 0.0

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study.optimize(objective)  # GridSampler stops the study once the grid is done
    assert sorted(seen, key=repr) == sorted(itertools.product(*grid.values()), key=repr)


def test_grid_sampler_accepts_stepped_floats() -> None:
    """Appendix C.3's stepped learning rates come back exactly as the grid lists them."""
    space = get_space("associative-memory")
    grid = space.grid("pc-se")
    study = optuna.create_study(sampler=optuna.samplers.GridSampler(grid, seed=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(30):
            trial = study.ask()
            values = space.suggest(trial, "pc-se")
            assert values["weight_lr"] in grid["weight_lr"]
            assert values["state_lr"] in grid["state_lr"]
            study.tell(trial, 0.0)


@pytest.mark.parametrize(("space", "algorithm"), PAIRS, ids=PAIR_IDS)
def test_suggest_stays_in_range_and_merges_fixed(space: SearchSpace, algorithm: str) -> None:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=3))
    distributions = space.distributions(algorithm)
    for i in range(6):
        trial = study.ask()
        values = space.suggest(trial, algorithm)
        assert list(values) == space.param_names(algorithm)
        assert space.fixed(algorithm).items() <= values.items()
        for name, dist in distributions.items():
            assert dist._contains(dist.to_internal_repr(values[name])), (name, values[name])
            assert trial.params[name] == values[name]
        study.tell(trial, float(i))


@pytest.mark.parametrize(("space", "algorithm"), PAIRS, ids=PAIR_IDS)
def test_suggest_with_a_fixed_trial(space: SearchSpace, algorithm: str) -> None:
    chosen = {}
    for name, p in space.params.items():
        if not p.applies_to(algorithm) or isinstance(p, FixedParam):
            continue
        chosen[name] = p.choices[-1] if isinstance(p, CategoricalParam) else p.high
    values = space.suggest(FixedTrial(chosen), algorithm)
    assert values == {n: chosen.get(n, space.fixed(algorithm).get(n)) for n in values}
    assert set(values) == set(chosen) | set(space.fixed(algorithm))


def test_study_ask_takes_the_distributions() -> None:
    space = get_space("discriminative-nudging")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask(space.distributions("cn"))
    assert set(trial.params) == set(space.distributions("cn"))
    assert 0.1 <= trial.params["beta"] <= 1.0


def test_training_stability_bp_has_no_state_parameters() -> None:
    """Appendix D.2's BP baseline runs the same grid without T, state_lr, state_optimizer."""
    space = get_space("training-stability-fashionmnist")
    names = space.param_names("bp-ce")
    assert not {"T", "state_lr", "state_optimizer", "state_momentum"} & set(names)
    assert {"T", "state_lr", "state_optimizer"} <= set(space.param_names("pc-ce"))
    space.check_for("mlp-fashionmnist", "bp-ce")

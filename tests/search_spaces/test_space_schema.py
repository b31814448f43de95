"""Validation of search spaces: each rule raises SearchSpaceError naming parameter and value."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from pcsearch.errors import PCSearchError
from search_spaces import (
    CategoricalParam,
    FixedParam,
    FloatParam,
    IntParam,
    SearchSpace,
    SearchSpaceError,
)


def make(params: dict[str, Any], **overrides: Any) -> SearchSpace:
    fields = dict(
        name="test-space",
        version=1,
        source="unit test",
        description="",
        kind="bayesian",
        tasks=["mlp-*"],
        algorithms=["pc-se", "pc-ce", "ipc", "pn", "nn", "cn", "bp-se", "bp-ce"],
    )
    return SearchSpace(**(fields | overrides), params=params)


def error_of(params: dict[str, Any], **overrides: Any) -> str:
    with pytest.raises(SearchSpaceError) as caught:
        make(params, **overrides)
    return str(caught.value)


def test_error_is_under_the_package_root() -> None:
    assert issubclass(SearchSpaceError, PCSearchError)


def test_low_above_high() -> None:
    msg = error_of({"state_lr": FloatParam(0.5, 0.1, log=True)})
    assert "'state_lr'" in msg and "low=0.5" in msg and "high=0.1" in msg and "swap" in msg


def test_low_above_high_int() -> None:
    msg = error_of({"T": IntParam(12, 4)})
    assert "'T'" in msg and "low=12" in msg and "high=4" in msg


def test_log_range_needs_positive_low() -> None:
    msg = error_of({"weight_decay": FloatParam(0.0, 0.01, log=True)})
    assert "'weight_decay'" in msg and "low=0.0" in msg and "log" in msg


def test_step_must_fit_the_range() -> None:
    msg = error_of({"state_momentum": FloatParam(0.0, 0.95, step=0.1)})
    assert "'state_momentum'" in msg and "step=0.1" in msg and "0.95" in msg
    assert "set high to 0.9" in msg


def test_int_step_must_fit_the_range() -> None:
    msg = error_of({"T": IntParam(4, 12, step=3)})
    assert "'T'" in msg and "step=3" in msg


def test_step_fit_tolerates_float_rounding() -> None:
    space = make(
        {
            "weight_lr": FloatParam(1e-4, 1e-3, step=5e-5),
            "state_lr": FloatParam(0.1, 1.0, step=0.05),
        }
    )
    assert space.params["weight_lr"].step == 5e-5


def test_unknown_parameter_lists_valid_names() -> None:
    msg = error_of({"stat_lr": FloatParam(0.01, 0.5, log=True)})
    assert "'stat_lr'" in msg and "state_lr" in msg and "weight_decay" in msg


def test_empty_categorical() -> None:
    msg = error_of({"activation": CategoricalParam([])})
    assert "'activation'" in msg and "choices=[]" in msg and "fixed" in msg


def test_duplicate_choice() -> None:
    msg = error_of({"activation": CategoricalParam(["gelu", "gelu"])})
    assert "'activation'" in msg and "'gelu'" in msg


def test_range_outside_core_limits() -> None:
    msg = error_of({"state_momentum": FloatParam(0.0, 1.5)})
    assert "'state_momentum'" in msg and "1.5" in msg and "[0.0, 1.0]" in msg


def test_categorical_choice_the_core_rejects() -> None:
    msg = error_of({"activation": CategoricalParam(["gelu", "swish"])})
    assert "'activation'" in msg and "'swish'" in msg and "leaky_relu" in msg


def test_numeric_choice_outside_core_limits() -> None:
    msg = error_of({"state_momentum": CategoricalParam([0.0, 1.5])})
    assert "'state_momentum'" in msg and "1.5" in msg


def test_non_integer_choice_for_int_parameter() -> None:
    msg = error_of({"T": CategoricalParam([8, 8.5])})
    assert "'T'" in msg and "8.5" in msg


def test_fixed_value_the_core_rejects() -> None:
    msg = error_of({"batch_size": FixedParam(0)})
    assert "'batch_size'" in msg and "0" in msg and "outside" in msg
    msg = error_of({"weight_optimizer": FixedParam("adam")})
    assert "'weight_optimizer'" in msg and "'adam'" in msg and "adamw" in msg


def test_values_are_normalised_by_the_core_parser() -> None:
    space = make({"T": CategoricalParam([24.0, "36"]), "state_momentum": FixedParam(0)})
    assert space.params["T"].choices == (24, 36)
    assert space.params["state_momentum"].value == 0.0
    assert isinstance(space.params["state_momentum"].value, float)


def test_declared_type_must_match_the_core() -> None:
    msg = error_of({"T": FloatParam(4.0, 12.0)})
    assert "'T'" in msg and "'int'" in msg


def test_log_and_step_do_not_mix() -> None:
    msg = error_of({"state_lr": FloatParam(0.01, 0.5, log=True, step=0.01)})
    assert "'state_lr'" in msg and "step=0.01" in msg and "log" in msg


def test_grid_space_needs_discrete_parameters() -> None:
    msg = error_of({"state_lr": FloatParam(0.01, 0.5, log=True)}, kind="grid")
    assert "'state_lr'" in msg and "0.01" in msg and "grid" in msg and "step" in msg


def test_grid_space_accepts_stepped_floats_ints_and_choices() -> None:
    space = make(
        {
            "state_lr": FloatParam(0.1, 0.3, step=0.1),
            "T": IntParam(4, 8, step=2),
            "activation": CategoricalParam(["gelu", "tanh"]),
            "epochs": FixedParam(3),
        },
        kind="grid",
    )
    assert space.grid("pc-se") == {
        "state_lr": [0.1, 0.2, 0.3],
        "T": [4, 6, 8],
        "activation": ["gelu", "tanh"],
    }


def test_condition_names_known_algorithms() -> None:
    msg = error_of({"beta": FloatParam(0.1, 1.0, only_for=["pn", "pp"])})
    assert "'beta'" in msg and "'pp'" in msg and "cn" in msg


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", "Discriminative_PC", "lowercase-kebab"),
        ("version", 0, "version=0"),
        ("kind", "random", "kind='random'"),
        ("algorithms", ["pc-se", "pc-xx"], "'pc-xx'"),
        ("tasks", [], "tasks=[]"),
        ("source", " ", "cite"),
    ],
)
def test_space_fields_are_checked(field: str, value: Any, expected: str) -> None:
    msg = error_of({"activation": CategoricalParam(["gelu"])}, **{field: value})
    assert expected in msg


def test_check_for_names_parameters_foreign_to_the_family() -> None:
    space = make({"T": IntParam(4, 12), "weight_lr": FloatParam(1e-5, 3e-4, log=True)})
    space.check_for("mlp-mnist", "pc-se")
    with pytest.raises(SearchSpaceError) as caught:
        space.check_for("mlp-mnist", "bp-ce")
    msg = str(caught.value)
    assert "'T'" in msg and "'bp-ce'" in msg and "only_for" in msg


def test_check_for_rejects_unknown_or_unlisted_tasks() -> None:
    space = make({"activation": CategoricalParam(["gelu"])}, tasks=["mlp-mnist"])
    with pytest.raises(SearchSpaceError, match="unknown task 'mlp-nope'"):
        space.check_for("mlp-nope", "pc-se")
    with pytest.raises(SearchSpaceError, match="not 'mlp-digits'"):
        space.check_for("mlp-digits", "pc-se")


def test_check_for_rejects_algorithms_the_space_is_not_for() -> None:
    space = make({"activation": CategoricalParam(["gelu"])}, algorithms=["pc-se"])
    with pytest.raises(SearchSpaceError, match="not meant for algorithm 'ipc'"):
        space.check_for("mlp-mnist", "ipc")
    with pytest.raises(SearchSpaceError, match="unknown algorithm 'pc'"):
        space.check_for("mlp-mnist", "pc")


def test_conditional_beta_exists_only_for_nudging() -> None:
    """beta and beta_increment only for pn, nn, cn: PC algorithms in the same space pass."""
    nudging = ["pn", "nn", "cn"]
    space = make(
        {
            "state_lr": FloatParam(0.01, 0.5, log=True),
            "beta": FloatParam(0.1, 1.0, step=0.05, only_for=nudging),
            "beta_increment": CategoricalParam([0.0, 0.02], only_for=nudging),
        },
        algorithms=["pc-se", "pc-ce", *nudging],
    )
    for algorithm in ("pc-se", "pc-ce"):
        space.check_for("mlp-mnist", algorithm)
        assert space.param_names(algorithm) == ["state_lr"]
    for algorithm in nudging:
        space.check_for("mlp-mnist", algorithm)
        assert space.param_names(algorithm) == ["state_lr", "beta", "beta_increment"]
        assert set(space.distributions(algorithm)) == {"state_lr", "beta", "beta_increment"}


def test_unconditional_beta_is_an_error_for_pc() -> None:
    space = make({"beta": FloatParam(0.1, 1.0)}, algorithms=["pc-se", "pn"])
    space.check_for("mlp-mnist", "pn")
    with pytest.raises(SearchSpaceError, match="'beta'"):
        space.check_for("mlp-mnist", "pc-se")


def test_fixed_values_and_param_names_keep_order() -> None:
    space = make({"T": FixedParam(8), "activation": CategoricalParam(["gelu"])})
    assert space.param_names("pc-se") == ["T", "activation"]
    assert space.fixed("pc-se") == {"T": 8}
    assert list(space.distributions("pc-se")) == ["activation"]


def test_importing_search_spaces_does_not_import_jax() -> None:
    code = "import sys, search_spaces; search_spaces.list_spaces(); print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

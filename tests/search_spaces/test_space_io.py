"""Round trips through dicts, JSON and YAML, and the errors of malformed input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search_spaces import SearchSpace, SearchSpaceError, dumps, list_spaces, load, loads

SPACES = list_spaces()
IDS = [s.ref for s in SPACES]


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_dict_round_trip(space: SearchSpace) -> None:
    again = SearchSpace.from_dict(space.to_dict())
    assert again == space
    assert again.to_dict() == space.to_dict()
    assert list(again.params) == list(space.params)


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_json_round_trip(space: SearchSpace) -> None:
    text = space.to_json()
    assert SearchSpace.from_json(text) == space
    assert json.loads(text) == space.to_dict()


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_yaml_round_trip(space: SearchSpace) -> None:
    again = loads(dumps(space, "yaml"), "yaml")
    assert again == space
    assert again.to_dict() == space.to_dict()


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_file_round_trip(tmp_path: Path, suffix: str) -> None:
    for space in SPACES:
        path = tmp_path / f"{space.name}{suffix}"
        space.save(path)
        assert SearchSpace.load(path) == space
        assert load(path).to_dict() == space.to_dict()


def test_hand_written_yaml_reads_like_json() -> None:
    """YAML 1.1 reads ``1e-4`` as text; the core's parser turns it into the number."""
    text = """
name: tiny
version: 1
source: unit test
description: hand written
kind: bayesian
tasks: [mlp-mnist]
algorithms: [pc-se]
params:
  weight_lr: {type: float, low: 1e-5, high: 3e-4, log: true}
  activation: {type: categorical, choices: [gelu, hard_tanh]}
  epochs: {type: fixed, value: 3}
"""
    space = loads(text, "yaml")
    assert space.params["weight_lr"].low == 1e-5
    assert list(space.params) == ["weight_lr", "activation", "epochs"]
    assert SearchSpace.from_json(space.to_json()) == space


def test_unknown_top_level_key_is_named() -> None:
    data = SPACES[0].to_dict() | {"sampler": "tpe"}
    with pytest.raises(SearchSpaceError, match="unknown key.*'sampler'"):
        SearchSpace.from_dict(data)


def test_unknown_parameter_key_is_named() -> None:
    data = SPACES[0].to_dict()
    first = next(iter(data["params"]))
    data["params"][first] = data["params"][first] | {"lo": 1}
    with pytest.raises(SearchSpaceError) as caught:
        SearchSpace.from_dict(data)
    assert "'lo'" in str(caught.value) and repr(first) in str(caught.value)


def test_missing_key_is_named() -> None:
    data = SPACES[0].to_dict()
    del data["source"]
    with pytest.raises(SearchSpaceError, match="missing key.*'source'"):
        SearchSpace.from_dict(data)


def test_unknown_parameter_type_is_named() -> None:
    data = SPACES[0].to_dict()
    data["params"] = {"T": {"type": "uniform", "low": 1, "high": 2}}
    with pytest.raises(SearchSpaceError, match="type='uniform'"):
        SearchSpace.from_dict(data)


def test_unknown_file_suffix(tmp_path: Path) -> None:
    with pytest.raises(SearchSpaceError, match="'.toml'"):
        SPACES[0].save(tmp_path / "space.toml")


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SearchSpaceError, match="broken.json"):
        load(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SearchSpaceError, match="cannot read"):
        load(tmp_path / "absent.yaml")

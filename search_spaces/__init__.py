"""The paper's hyperparameter search spaces as validated data, and their Optuna form.

Importable without JAX: it needs only the catalogue, Optuna and PyYAML.
"""

from search_spaces.errors import SearchSpaceError
from search_spaces.io import dumps, load, loads, save
from search_spaces.parameters import (
    CategoricalParam,
    FixedParam,
    FloatParam,
    IntParam,
    Param,
    param_from_dict,
)
from search_spaces.registry import default_space, get_space, list_spaces
from search_spaces.schema import SearchSpace

__all__ = [
    "CategoricalParam",
    "FixedParam",
    "FloatParam",
    "IntParam",
    "Param",
    "SearchSpace",
    "SearchSpaceError",
    "default_space",
    "dumps",
    "get_space",
    "list_spaces",
    "load",
    "loads",
    "param_from_dict",
    "save",
]

"""pcsearch: fast predictive coding networks on JAX, and hyperparameter search for them.

The core (this package) knows JAX, Equinox and Optax, and nothing of Optuna, HTTP or
databases. ``pcsearch.catalogue`` and ``pcsearch.params`` import no JAX.
"""

__version__ = "0.1.0"

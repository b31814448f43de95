"""The names of every attribute pcsearch stores on Optuna studies and trials.

Optuna's storage is the only source of truth: workers write these keys, and the API,
the CLI and the dashboard read them. Keeping the names here means a reader never guesses
a string another module wrote.
"""

from __future__ import annotations

# --- study user attributes -------------------------------------------------------------
CONFIG = "pcsearch"
"""The study's :class:`workers.config.StudyConfig` as a dict (what the study is for)."""
STATUS = "status"
"""The control state a person set: one of :data:`STUDY_STATUSES`."""
TASK = "task"
ALGORITHM = "algorithm"
SPACE = "space"
"""Flat copies of the config's task, algorithm and space reference, for the dashboard."""
FAILING_PREFIX = "failing:"
"""``failing:<worker id>``: a worker gave up on the study; the value says why and when."""

ACTIVE, STOPPED, FAILING = "active", "stopped", "failing"
STUDY_STATUSES = (ACTIVE, STOPPED, FAILING)

# --- trial user attributes -------------------------------------------------------------
WORKER = "worker"
"""``host:pid`` of the worker process that holds (or held) the trial."""
RUN_STATUS = "status"
"""How the training run ended: completed, diverged, stopped, failed (a diverged run may
still be COMPLETE with its best epoch's value)."""
REASON = "reason"
ERROR = "error"
"""The exception of a trial that failed with an error (counts towards a worker's budget)."""
EPOCH_VALUES = "epoch_values"
ENERGY_PER_LAYER = "energy_per_layer"
EPOCH_SECONDS = "epoch_seconds"
EPOCH_METRICS = "epoch_metrics"
"""Per epoch, the task's other test metrics by name (e.g. ``top5_accuracy``)."""
BEST_EPOCH = "best_epoch"
"""1-based epoch whose metric is the trial's value under ``objective: best``."""
ENERGY_PER_STEP = "energy_per_step"
"""[T + 1][layers] energies on a probe batch after training (studies with energy_trace)."""
SYNTHETIC = "synthetic_data"
"""Set (true) on trials trained on random data of the task's shapes, not the dataset."""
ENVIRONMENT = "environment"
SEED = "seed"
DATA_SEED = "data_seed"
RESOLVED_PARAMS = "resolved_params"
RETRY_OF = "retry_of"
"""Number of the trial this one repeats (same parameters), after its worker died."""
ATTEMPT = "attempt"
"""1 for a first run, 2 for its first retry, and so on."""

# --- trial system attributes (not shown by the dashboard) ----------------------------
BEAT = "pcsearch:beat"
"""The lease's heartbeat: a counter its owner bumps every few seconds."""
FIXED_PARAMS = "fixed_params"
"""Optuna's own key for the parameters of an enqueued (WAITING) trial."""

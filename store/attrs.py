"""The names of every attribute pcsearch stores on Optuna studies and trials.

Optuna's storage is the only source of truth: workers write these keys, and the API,
the CLI and the dashboard read them. Keeping the names here means a reader never guesses
a string another module wrote.

optuna-dashboard shows every study *user* attribute to people, and of the *system*
attributes only its own (notes, metric names). So a study's user attributes are written
for people (a one-line description, task, algorithm, space), and what only machines
read (the whole config, the control flag) is kept in system attributes. Studies made
before this split keep their config and flag in user attributes: :func:`stored` reads
both places, and is the one way to read either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# --- study user attributes (optuna-dashboard shows each) -------------------------------
DESCRIPTION = "pcsearch"
"""One line for people, e.g. ``pc-se on mlp-digits, 40 trials, TPE, space
discriminative-pc@1, seed 0`` (:func:`store.studies.describe`). Its presence marks a
study made by pcsearch."""
CONFIG = DESCRIPTION
"""The same key under its old meaning: studies made before the config moved to
:data:`STORED_CONFIG` hold the config dict here (still read by :func:`stored`)."""
STATUS = "status"
"""Old place of the control flag (now :data:`CONTROL`), which the dashboard showed as
if it were the study's state (``active`` on a complete study). While it holds a value it
still wins (a study stopped by an older pcsearch stays stopped); every write of the flag
now clears it to null."""
TASK = "task"
ALGORITHM = "algorithm"
SPACE = "space"
"""Flat copies of the config's task, algorithm and space reference, for the dashboard."""
FAILING_PREFIX = "failing:"
"""``failing:<worker id>``: a worker gave up on the study; the value says why and when."""
SKIPPED_PREFIX = "skipped:"
"""``skipped:<worker id>``: the worker skips the study for now (an error it could not settle
there); the value says why, when and for how long. See :mod:`store.skips`."""

# --- study system attributes (the dashboard shows none of these but the metric names) ---
STORED_CONFIG = "pcsearch:config"
"""The study's :class:`store.config.StudyConfig` as a dict (what the study is for)."""
CONTROL = "pcsearch:control"
"""Whether workers take the study's trials: one of :data:`STUDY_STATUSES`, set by a
person (stop, resume) or by workers giving up. Not the study's state: views combine it
with the trial counts (:func:`store.views.study_state`)."""
METRIC_NAMES = "study:metric_names"
"""Optuna's own key (``Study.set_metric_names``): the objective's name in the dashboard."""
ORDINAL_PREFIX = "pcsearch:sampler:"
"""``pcsearch:sampler:<identity>``: that worker's ordinal, the index of its own sampler
stream on the study (:mod:`store.samplers`)."""

ACTIVE, STOPPED, FAILING = "active", "stopped", "failing"
STUDY_STATUSES = (ACTIVE, STOPPED, FAILING)


@dataclass(frozen=True)
class Stored:
    """A study's attributes as stored, and what pcsearch reads from them."""

    user_attrs: Mapping[str, Any]
    system_attrs: Mapping[str, Any]

    @property
    def made_by_pcsearch(self) -> bool:
        return DESCRIPTION in self.user_attrs

    @property
    def config(self) -> Any:
        """The config dict (None when there is none): an old study's user attribute if it
        holds one, else the system attribute. Validate it with ``StudyConfig.from_dict``."""
        old = self.user_attrs.get(CONFIG)
        return old if isinstance(old, dict) else self.system_attrs.get(STORED_CONFIG)

    @property
    def control(self) -> str:
        """Whether workers take trials: the old user attribute while it is set, else the
        system attribute, else active."""
        old = self.user_attrs.get(STATUS)
        return old if old is not None else self.system_attrs.get(CONTROL) or ACTIVE


def stored(study: Any) -> Stored:
    """The attributes of an ``optuna.Study`` (two reads) or of a ``FrozenStudy`` from
    ``get_all_studies`` (none: it carries both)."""
    if hasattr(study, "system_attrs"):
        return Stored(study.user_attrs, study.system_attrs)
    storage, study_id = study._storage, study._study_id
    return Stored(storage.get_study_user_attrs(study_id), storage.get_study_system_attrs(study_id))


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
WARM_START = "warm_start"
"""``paper`` on a study's first trial when it runs the paper's best values."""

# --- trial system attributes (not shown by the dashboard) ----------------------------
BEAT = "pcsearch:beat"
"""The lease's heartbeat: a counter its owner bumps every few seconds."""
FIXED_PARAMS = "fixed_params"
"""Optuna's own key for the parameters of an enqueued (WAITING) trial."""
GRID_POINT = "pcsearch:grid_point"
"""The grid point a trial was given, by parameter name (:mod:`store.samplers`)."""

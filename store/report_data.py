"""From finished studies in Optuna's storage to the plain data that reports draw.

Rerun studies (``pcsearch rerun``) give the table's cells: mean ± std over their seeds.
Search studies give the figures (optimisation history, metric against state learning
rate, energies per inference step and their imbalance where trials recorded them), and a
cell of their best trial for a (task, algorithm) that no rerun covers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import optuna
from optuna.trial import FrozenTrial, TrialState

from pcsearch.analysis import ResultCell, StudyFigures, energy_imbalance, summarise
from pcsearch.analysis.summary import Setting
from pcsearch.catalogue import task_info
from store import attrs, studies
from store.config import StudyConfig
from store.errors import StoreError

UNFINISHED = (TrialState.RUNNING, TrialState.WAITING)


@dataclass
class ReportData:
    cells: list[ResultCell] = field(default_factory=list)
    figures: list[StudyFigures] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """One line per study left out, saying why."""


def collect(storage: optuna.storages.BaseStorage, names: Sequence[str] | None) -> ReportData:
    """The report's data for ``names`` (default: every pcsearch study in the storage)."""
    if names is None:
        names = sorted(s.study_name for s in studies.pcsearch_studies(storage))
    data = ReportData()
    searched: list[ResultCell] = []
    for name in names:
        study, config = studies.load(storage, name)
        trials = study.get_trials(deepcopy=False)
        if any(t.state in UNFINISHED for t in trials):
            data.skipped.append(f"{name}: not finished (trials still running or queued)")
            continue
        if config.seeds:
            data.cells += seed_cells(name, config, trials)
            continue
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        if not complete:
            data.skipped.append(f"{name}: no completed trial")
            continue
        best = study.best_trial
        data.figures.append(_figures(name, config, trials, best))
        metric = task_info(config.task).metric  # a search's cell: its best trial's value
        cell = _cell(name, config, metric, [best.value], _seconds(trials), setting(config, [best]))
        searched.append(cell)
    covered = {(c.task, c.algorithm, c.setting) for c in data.cells}
    duplicates = [c for c in data.cells if sum(_same(c, d) for d in data.cells) > 1]
    if duplicates:
        listed = ", ".join(sorted({c.study or "" for c in duplicates}))
        raise StoreError(
            f"more than one rerun study for the same task, algorithm and setting ({listed}); "
            "choose one of each with --study"
        )
    data.cells += [c for c in searched if (c.task, c.algorithm, c.setting) not in covered]
    return data


def _same(a: ResultCell, b: ResultCell) -> bool:
    return (a.task, a.algorithm, a.metric, a.setting) == (b.task, b.algorithm, b.metric, b.setting)


SETTING_NAMES = {
    "corruption": "corruption",
    "hidden_width": "hidden_width",
    "memory_size": "images",
}
"""Memory mode's experimental conditions (hyperparameter -> the name the paper's Table 3
numbers use, ``pcsearch.analysis.paper_results.json``): one study per (corruption, d, n)."""


def setting(config: StudyConfig, trials: Sequence[FrozenTrial]) -> Setting:
    """The study's experimental condition as (name, value) pairs, from its trials' resolved
    values: an associative memory's cell; () for other modes, which have one per task."""
    if task_info(config.task).mode != "memory":
        return ()
    seen = {
        tuple((SETTING_NAMES[k], resolved[k]) for k in SETTING_NAMES if k in resolved)
        for t in trials
        if (resolved := t.user_attrs.get(attrs.RESOLVED_PARAMS))
    }
    return seen.pop() if len(seen) == 1 else ()


def _seconds(trials: Sequence[FrozenTrial]) -> float:
    return sum(sum(t.user_attrs.get(attrs.EPOCH_SECONDS) or []) for t in trials)


def seed_cells(name: str, config: StudyConfig, trials: Sequence[FrozenTrial]) -> list[ResultCell]:
    """A rerun study's cells: its task's metric first, then its other metrics (top-5),
    each seed scored by its best epoch of that metric. A seed with no value (pruned,
    diverged at once) counts as failed; failed trials queued again are not seeds."""
    info = task_info(config.task)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    values = [t.value if t.state == TrialState.COMPLETE else None for t in finished]
    where = setting(config, finished)
    cells = [_cell(name, config, info.metric, values, _seconds(trials), where)]
    best = max if info.direction == "maximize" else min
    others = sorted(
        {k for t in finished for e in t.user_attrs.get(attrs.EPOCH_METRICS) or [] for k in e}
    )
    for metric in others:
        values = []
        for t in finished:
            seen = [e.get(metric) for e in t.user_attrs.get(attrs.EPOCH_METRICS) or []]
            seen = [v for v in seen if v is not None]
            values.append(best(seen) if seen and t.state == TrialState.COMPLETE else None)
        if any(v is not None for v in values):
            cells.append(_cell(name, config, metric, values, setting=where))
    return cells


def _cell(
    name: str,
    config: StudyConfig,
    metric: str,
    values: Sequence[float | None],
    seconds: float | None = None,
    setting: Setting = (),
) -> ResultCell:
    """Mean ± std of ``values``, over the study's best ``keep_best`` when it has that many."""
    direction = task_info(config.task).direction
    keep = config.keep_best if config.keep_best and config.keep_best <= len(values) else None
    return ResultCell(
        task=config.task,
        algorithm=config.algorithm,
        metric=metric,
        direction=direction,
        summary=summarise(values, direction, keep),
        seconds=seconds,
        study=name,
        setting=setting,
    )


def _param(trial: FrozenTrial, key: str) -> float | None:
    value = trial.params.get(key, (trial.user_attrs.get(attrs.RESOLVED_PARAMS) or {}).get(key))
    return float(value) if isinstance(value, int | float) else None


def _figures(
    name: str, config: StudyConfig, trials: Sequence[FrozenTrial], best: FrozenTrial
) -> StudyFigures:
    info = task_info(config.task)
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    points, imbalance = [], []
    for t in complete:
        lr = _param(t, "state_lr")
        if lr is None:
            continue
        points.append((lr, float(t.value)))
        trace = t.user_attrs.get(attrs.ENERGY_PER_STEP)
        if trace and all(e is not None for e in trace[-1]):
            ratio = energy_imbalance(trace[-1])
            if math.isfinite(ratio) and ratio > 0:
                imbalance.append((lr, ratio))
    return StudyFigures(
        study=name,
        task=config.task,
        algorithm=config.algorithm,
        metric=info.metric,
        direction=info.direction,
        trial_values=[(t.number, float(t.value)) for t in complete],
        state_lr_points=points,
        energy_per_step=_finite_trace(best.user_attrs.get(attrs.ENERGY_PER_STEP)),
        imbalance_points=imbalance,
    )


def _finite_trace(trace: list[list[float | None]] | None) -> list[list[float]] | None:
    """A stored trace to plot, or None when it has none or a non-finite (null) energy."""
    if not trace or any(e is None for row in trace for e in row):
        return None
    return [[float(e) for e in row] for row in trace]

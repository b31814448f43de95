"""Aggregate SQL over Optuna's RDB tables, for :mod:`store.views`.

A page of studies is one statement: the page, its total (a window count), and per study
the trials in each state and the best finite value, aggregated by the database. A page of
trials is one statement for the trials and their values, then two IN queries for their
parameters and attributes. The work per request grows with the page, not with the number
of studies or trials stored. Statements are built once, at import, with bound parameters.

The tables are Optuna's own (``optuna/storages/_rdb/models.py``); their SQLAlchemy
definitions are reused so that column names and enum types stay Optuna's.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from optuna.distributions import json_to_distribution
from optuna.storages._rdb import models
from optuna.study import StudyDirection
from optuna.trial import TrialState
from sqlalchemy import JSON, Connection, Select, and_, bindparam, case, cast, func, select

from store import attrs

STUDIES = models.StudyModel.__table__
DIRECTIONS = models.StudyDirectionModel.__table__
STUDY_ATTRS = models.StudyUserAttributeModel.__table__
SYSTEM_ATTRS = models.StudySystemAttributeModel.__table__
TRIALS = models.TrialModel.__table__
VALUES = models.TrialValueModel.__table__
PARAMS = models.TrialParamModel.__table__
TRIAL_ATTRS = models.TrialUserAttributeModel.__table__
VERSION = models.VersionInfoModel.__table__
FINITE = models.TrialValueModel.TrialValueType.FINITE
COMPLETE = TrialState.COMPLETE


@dataclass(frozen=True)
class StudyRow:
    study_id: int
    name: str
    task: str | None
    algorithm: str | None
    n_trials: int
    status: str | None
    direction: StudyDirection
    counts: dict[TrialState, int] = field(default_factory=dict)
    best: float | None = None
    spec: dict[str, Any] | None = None
    """The whole config, read only for one study (it holds the space)."""


def _flat(alias: Any, key: str, study_id: Any) -> Any:
    return and_(alias.c.study_id == study_id, alias.c.key == key)


def _attr(table: Any, key: str, study_id: Any) -> Any:
    """One attribute's JSON text (NULL when absent), as a scalar subquery: a join more
    makes a plan that takes Postgres longer to build than the query takes to run."""
    found = select(table.c.value_json).where(table.c.study_id == study_id, table.c.key == key)
    return found.scalar_subquery()


def _config(marker: Any, study_id: Any) -> Any:
    """:attr:`store.attrs.Stored.config` in SQL, as JSON text: an older study's
    ``pcsearch`` user attribute (``marker``) if it holds an object, else the system one."""
    stored = _attr(SYSTEM_ATTRS, attrs.STORED_CONFIG, study_id)
    return case((func.substr(marker, 1, 1) == "{", marker), else_=stored)


def _control(study_id: Any) -> Any:
    """:attr:`store.attrs.Stored.control` in SQL: an older study's user attribute while
    it is set (not null), else the system attribute; NULL means active."""
    old = _attr(STUDY_ATTRS, attrs.STATUS, study_id)
    return func.coalesce(func.nullif(old, "null"), _attr(SYSTEM_ATTRS, attrs.CONTROL, study_id))


BEST = case((and_(TRIALS.c.state == COMPLETE, VALUES.c.value_type == FINITE), VALUES.c.value))
AGGREGATES = [
    *[
        func.sum(case((TRIALS.c.state == state, 1), else_=0)).label(state.name.lower())
        for state in TrialState
    ],
    func.max(BEST).label("high"),
    func.min(BEST).label("low"),
]
"""Per study: trials in each state, and the highest and lowest finite complete value."""
WITH_VALUES = TRIALS.outerjoin(
    VALUES, and_(VALUES.c.trial_id == TRIALS.c.trial_id, VALUES.c.objective == 0)
)


def _page() -> Select:
    """A page of pcsearch studies (those with a description attr) with their aggregates.

    The page and its total (a window count) come first, so that the config documents are
    read for the page's studies only, once each (only ``n_trials`` is taken from them; the
    task and algorithm have flat attributes of their own).
    """
    config, task, algorithm = (STUDY_ATTRS.alias(n) for n in ("c", "t", "a"))
    page = (
        select(STUDIES.c.study_id, STUDIES.c.study_name, func.count().over().label("total"))
        .join(config, _flat(config, attrs.DESCRIPTION, STUDIES.c.study_id))
        .order_by(STUDIES.c.study_id)
        .limit(bindparam("limit", type_=None))
        .offset(bindparam("offset", type_=None))
        .cte("page")
    )
    trials = (
        select(TRIALS.c.study_id, *AGGREGATES)
        .select_from(WITH_VALUES)
        .where(TRIALS.c.study_id.in_(select(page.c.study_id)))
        .group_by(TRIALS.c.study_id)
        .subquery("trials")
    )
    spec = _config(config.c.value_json, page.c.study_id)
    return (
        select(
            page,
            cast(spec, JSON)["n_trials"].as_string().label("n_trials"),
            task.c.value_json.label("task"),
            algorithm.c.value_json.label("algorithm"),
            _control(page.c.study_id).label("status"),
            DIRECTIONS.c.direction,
            *[trials.c[c.name] for c in AGGREGATES],
        )
        .select_from(
            page.join(config, _flat(config, attrs.DESCRIPTION, page.c.study_id))
            .outerjoin(task, _flat(task, attrs.TASK, page.c.study_id))
            .outerjoin(algorithm, _flat(algorithm, attrs.ALGORITHM, page.c.study_id))
            .outerjoin(
                DIRECTIONS,
                and_(DIRECTIONS.c.study_id == page.c.study_id, DIRECTIONS.c.objective == 0),
            )
            .outerjoin(trials, trials.c.study_id == page.c.study_id)
        )
        .order_by(page.c.study_id)
    )


def _one() -> Select:
    """One study by name, with its whole config and its aggregates: a plain GROUP BY."""
    config, study_id = STUDY_ATTRS.alias("c"), STUDIES.c.study_id
    keys = (study_id, STUDIES.c.study_name, config.c.value_json, DIRECTIONS.c.direction)
    return (
        select(
            study_id,
            STUDIES.c.study_name,
            _config(config.c.value_json, study_id).label("spec"),
            _control(study_id).label("status"),
            DIRECTIONS.c.direction,
            *AGGREGATES,
        )
        .select_from(
            STUDIES.join(config, _flat(config, attrs.DESCRIPTION, study_id))
            .outerjoin(
                DIRECTIONS, and_(DIRECTIONS.c.study_id == study_id, DIRECTIONS.c.objective == 0)
            )
            .outerjoin(WITH_VALUES, TRIALS.c.study_id == study_id)
        )
        .where(STUDIES.c.study_name == bindparam("name"))
        .group_by(*keys)
    )


_PAGE = _page()
_ONE = _one()
_COUNT = select(func.count()).select_from(STUDY_ATTRS).where(STUDY_ATTRS.c.key == attrs.DESCRIPTION)
_EXISTS = select(STUDIES.c.study_id).where(STUDIES.c.study_name == bindparam("name"))


def study_page(conn: Connection, offset: int, limit: int) -> tuple[int, list[StudyRow]]:
    """The number of pcsearch studies, and one page of them, oldest first."""
    rows = conn.execute(_PAGE, {"offset": offset, "limit": limit}).mappings().all()
    total = rows[0]["total"] if rows else conn.execute(_COUNT).scalar_one()
    return total, [_study_row(row) for row in rows]


def one_study(conn: Connection, name: str) -> StudyRow | None:
    """The study, with its spec; None when there is no pcsearch study of that name."""
    row = conn.execute(_ONE, {"name": name}).mappings().first()
    return None if row is None else _study_row(row)


def study_exists(conn: Connection, name: str) -> bool:
    return conn.execute(_EXISTS, {"name": name}).first() is not None


def _study_row(row: Any) -> StudyRow:
    direction = row["direction"] or StudyDirection.MAXIMIZE
    best = row["high"] if direction == StudyDirection.MAXIMIZE else row["low"]
    whole = "spec" in row  # one study: its whole config, else a page's flat columns
    spec = _json(row["spec"]) if whole else None
    flat = spec if isinstance(spec, dict) else {}
    return StudyRow(
        study_id=row["study_id"],
        name=row["study_name"],
        task=flat.get("task") if whole else _json(row["task"]),
        algorithm=flat.get("algorithm") if whole else _json(row["algorithm"]),
        n_trials=as_int(flat.get("n_trials") if whole else row["n_trials"]),
        status=_json(row["status"]),
        direction=direction,
        counts={s: int(row[s.name.lower()] or 0) for s in TrialState},
        best=best,
        spec=flat if whole else None,
    )


def _best(direction: StudyDirection) -> Select:
    """The best complete trial of a study and its curve. Each trial's value is looked up by
    index (a correlated subquery), so the cost follows the study's trials, not the table."""
    value = (
        select(VALUES.c.value)
        .where(
            VALUES.c.trial_id == TRIALS.c.trial_id,
            VALUES.c.objective == 0,
            VALUES.c.value_type == FINITE,
        )
        .scalar_subquery()
    )
    scored = (
        select(TRIALS.c.trial_id, TRIALS.c.number, value.label("value"))
        .where(TRIALS.c.study_id == bindparam("study_id"), TRIALS.c.state == COMPLETE)
        .subquery("scored")
    )
    order = scored.c.value.desc() if direction == StudyDirection.MAXIMIZE else scored.c.value
    top = (
        select(scored)
        .where(scored.c.value.is_not(None))
        .order_by(order, scored.c.number)
        .limit(1)
        .subquery("top")
    )
    return select(top, TRIAL_ATTRS.c.value_json).select_from(
        top.outerjoin(
            TRIAL_ATTRS,
            and_(TRIAL_ATTRS.c.trial_id == top.c.trial_id, TRIAL_ATTRS.c.key == attrs.EPOCH_VALUES),
        )
    )


_BEST = {d: _best(d) for d in (StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE)}


def best_trial(
    conn: Connection, study_id: int, direction: StudyDirection
) -> tuple[int, int, float, list[float | None]] | None:
    """``(trial_id, number, value, epoch values)`` of the best complete trial (the earliest
    on a tie)."""
    query = _BEST.get(direction, _BEST[StudyDirection.MAXIMIZE])
    row = conn.execute(query, {"study_id": study_id}).first()
    if row is None:
        return None
    curve = _json(row[3])
    return row[0], row[1], row[2], curve if isinstance(curve, list) else []


_FAILING = select(STUDY_ATTRS.c.key, STUDY_ATTRS.c.value_json).where(
    STUDY_ATTRS.c.study_id == bindparam("study_id"),
    STUDY_ATTRS.c.key.startswith(attrs.FAILING_PREFIX)
    | STUDY_ATTRS.c.key.startswith(attrs.SKIPPED_PREFIX),
)


def worker_marks(conn: Connection, study_id: int) -> dict[str, Any]:
    """The study's ``failing:<worker>`` and ``skipped:<worker>`` attributes, as stored."""
    return {key: _json(value) for key, value in conn.execute(_FAILING, {"study_id": study_id})}


@dataclass(frozen=True)
class TrialRow:
    trial_id: int
    number: int
    state: TrialState
    datetime_start: Any
    datetime_complete: Any
    value: float | None


def _trials(filtered: bool) -> Select:
    pcsearch_study = (
        select(STUDIES.c.study_id)
        .join(
            STUDY_ATTRS,
            and_(
                STUDY_ATTRS.c.study_id == STUDIES.c.study_id,
                STUDY_ATTRS.c.key == attrs.DESCRIPTION,
            ),
        )
        .where(STUDIES.c.study_name == bindparam("name"))
        .scalar_subquery()
    )
    query = (
        select(
            TRIALS.c.trial_id,
            TRIALS.c.number,
            TRIALS.c.state,
            TRIALS.c.datetime_start,
            TRIALS.c.datetime_complete,
            case((VALUES.c.value_type == FINITE, VALUES.c.value)).label("value"),
            func.count().over().label("total"),
        )
        .select_from(
            TRIALS.outerjoin(
                VALUES, and_(VALUES.c.trial_id == TRIALS.c.trial_id, VALUES.c.objective == 0)
            )
        )
        .where(TRIALS.c.study_id == pcsearch_study)
        .order_by(TRIALS.c.number)
        .limit(bindparam("limit", type_=None))
        .offset(bindparam("offset", type_=None))
    )
    if filtered:
        query = query.where(TRIALS.c.state.in_(bindparam("states", expanding=True)))
    return query


_TRIALS = {False: _trials(filtered=False), True: _trials(filtered=True)}
_COUNT_TRIALS = {
    filtered: select(func.count())
    .select_from(TRIALS)
    .where(
        TRIALS.c.study_id == bindparam("study_id"),
        *([TRIALS.c.state.in_(bindparam("states", expanding=True))] if filtered else []),
    )
    for filtered in (False, True)
}


def trial_page(
    conn: Connection, name: str, states: Sequence[TrialState], offset: int, limit: int
) -> tuple[int, list[TrialRow]] | None:
    """The number of matching trials and one page of them by number; None when there is
    no pcsearch study of that name."""
    values: dict[str, Any] = {"name": name, "offset": offset, "limit": limit}
    if states:
        values["states"] = list(states)
    rows = conn.execute(_TRIALS[bool(states)], values).all()
    if rows:
        return rows[0][-1], [TrialRow(*row[:-1]) for row in rows]
    study = one_study(conn, name)  # no rows: an empty page, or no such study
    if study is None:
        return None
    count = {"study_id": study.study_id} | ({"states": list(states)} if states else {})
    return conn.execute(_COUNT_TRIALS[bool(states)], count).scalar_one(), []


_PARAMS = (
    select(PARAMS.c.trial_id, PARAMS.c.param_name, PARAMS.c.param_value, PARAMS.c.distribution_json)
    .where(PARAMS.c.trial_id.in_(bindparam("ids", expanding=True)))
    .order_by(PARAMS.c.param_id)
)


def trial_params(conn: Connection, trial_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Parameters by trial, in the order they were suggested, as the user sees them."""
    params: dict[int, dict[str, Any]] = {i: {} for i in trial_ids}
    if trial_ids:
        for trial_id, name, internal, distribution in conn.execute(
            _PARAMS, {"ids": list(trial_ids)}
        ):
            params[trial_id][name] = _distribution(distribution).to_external_repr(internal)
    return params


_TRIAL_ATTRS = select(TRIAL_ATTRS.c.trial_id, TRIAL_ATTRS.c.key, TRIAL_ATTRS.c.value_json).where(
    TRIAL_ATTRS.c.trial_id.in_(bindparam("ids", expanding=True)),
    TRIAL_ATTRS.c.key.in_(bindparam("keys", expanding=True)),
)


def trial_attrs(
    conn: Connection, trial_ids: Collection[int], keys: Collection[str]
) -> dict[int, dict[str, Any]]:
    """Only the named user attributes of each trial (not the bulky ones nobody asked for)."""
    found: dict[int, dict[str, Any]] = {i: {} for i in trial_ids}
    if trial_ids:
        rows = conn.execute(_TRIAL_ATTRS, {"ids": list(trial_ids), "keys": list(keys)})
        for trial_id, key, value in rows:
            found[trial_id][key] = _json(value)
    return found


def schema_version(conn: Connection) -> int | None:
    return conn.execute(select(VERSION.c.schema_version)).scalar()


@lru_cache(maxsize=4096)
def _distribution(text: str) -> Any:
    return json_to_distribution(text)


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0

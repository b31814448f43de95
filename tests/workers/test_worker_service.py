"""The service loop as a person watching it sees it: a study deleted and created again
under its name is served at once, a skipped study says why on itself, and a healthy
worker says what it does (or nothing, with --quiet)."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from api.schemas import detail_dict
from pcsearch_cli.client_cmds import describe
from store import attrs, skips, studies, views
from store.storage import open_storage
from tests.workers.fleet import fleet, make_study, trials_of, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
DRY = {"PCSEARCH_WORKER_DRY_RUN": "1"}


def _complete(url: str, name: str) -> int:
    try:
        return sum(t.state == TrialState.COMPLETE for t in trials_of(url, name))
    except KeyError:  # deleted, not yet created again
        return 0


def test_study_created_again_under_its_name_is_served_at_once(
    pcsearch_exe: str, fresh_database: str, tmp_path: Path
) -> None:
    """Force-delete a study a worker has served and create it again: the worker serves
    the new one within seconds (it used to keep the old study's id and skip the name)."""
    postgres_url = fresh_database  # a service worker serves every study: none of others'
    make_study(postgres_url, "again", n_trials=2, epochs=1)
    with fleet(pcsearch_exe, tmp_path, postgres_url, **DRY) as f:
        worker = f.start("--poll", "0.3")
        wait_until(lambda: _complete(postgres_url, "again") == 2, 60, "the first study")
        studies.delete(open_storage(postgres_url), "again", force=True)
        make_study(postgres_url, "again", n_trials=3, epochs=1)
        wait_until(lambda: _complete(postgres_url, "again") == 3, 15, "the study made again")
        assert worker.poll() is None, f.output()
    assert "skipping study" not in f.output()


def test_a_skipped_study_says_why_on_itself(pcsearch_exe: str, tmp_path: Path) -> None:
    """A study the worker cannot run is skipped with a mark naming the worker and the
    reason; once the study is mended and looked at again, it runs and the mark is gone."""
    url = str(tmp_path / "s.journal")
    newer = make_study(url, "from-the-future", n_trials=1, epochs=1)
    good = dict(attrs.stored(newer).config)
    newer.set_user_attr(attrs.CONFIG, dict(good, from_the_future="best"))

    def marks() -> dict:
        study = optuna.load_study(study_name="from-the-future", storage=open_storage(url))
        return skips.skipping_workers(study.user_attrs)

    with fleet(pcsearch_exe, tmp_path, url, PCSEARCH_SKIP_STUDY_SECONDS="1", **DRY) as f:
        worker = f.start("--poll", "0.3")
        found = wait_until(marks, 60, "the skip mark")
        ((owner, mark),) = found.items()
        assert owner.endswith(f":{worker.pid}")
        assert "newer pcsearch" in mark["reason"] and mark["retry_after_seconds"] == 1
        # What `pcsearch status NAME` and GET /api/v1/studies/NAME show of it.
        shown = describe(detail_dict(views.get_study(open_storage(url), "from-the-future")))
        assert f"worker {owner} skips it at " in shown and "newer pcsearch" in shown, shown
        newer.set_user_attr(attrs.CONFIG, good)
        wait_until(lambda: _complete(url, "from-the-future") == 1, 30, "the mended study")
        wait_until(lambda: not marks(), 10, "the mark to be cleared")
        assert worker.poll() is None, f.output()


def test_a_worker_says_what_it_does_and_quiet_hushes_it(pcsearch_exe: str, tmp_path: Path) -> None:
    url = str(tmp_path / "s.journal")
    make_study(url, "told", n_trials=2, epochs=1)
    make_study(url, "hushed", n_trials=1, epochs=1)
    with fleet(pcsearch_exe, tmp_path, url, **DRY) as f:
        f.start("--study", "told", "--until-done", "--poll", "0.3")
        f.start("--study", "hushed", "--until-done", "--poll", "0.3", "--quiet")
        assert f.wait(90) == [0, 0], f.output()
    told, hushed = (log.read_text() for log in f.logs)
    assert "ready: storage " + url in told and "study told" in told
    assert "devices: none (dry run)" in told
    for number in (0, 1):
        assert f"trial told#{number} started: " in told
        assert f"trial told#{number} complete, value " in told

    assert _complete(url, "hushed") == 1
    assert "ready:" not in hushed and "trial hushed#0" not in hushed

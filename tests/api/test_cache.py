"""The read cache: reuse within the TTL, one computation for concurrent misses, changes
through the API visible at once, and no answer computed before a change served after it."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from api.cache import ReadCache
from store import attrs
from tests.api.helpers import TOKENS, serve, settings_for


class Counter:
    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self) -> bytes:
        with self.lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.delay)
        return str(n).encode()


def test_ttl_zero_computes_every_time() -> None:
    cache, compute = ReadCache(0), Counter()
    assert [cache.get("g", "k", compute) for _ in range(3)] == [b"1", b"2", b"3"]


def test_answers_are_reused_until_the_ttl_or_a_clear() -> None:
    cache, compute = ReadCache(0.2), Counter()
    assert cache.get("g", "k", compute) == cache.get("g", "k", compute) == b"1"
    cache.clear("other")
    assert cache.get("g", "k", compute) == b"1"
    cache.clear("g")
    assert cache.get("g", "k", compute) == b"2"
    time.sleep(0.25)
    assert cache.get("g", "k", compute) == b"3"


def test_concurrent_misses_compute_once() -> None:
    cache, compute = ReadCache(10), Counter(delay=0.2)
    answers: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.get("g", "k", compute)))
        for _ in range(10)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert compute.calls == 1 and answers == [b"1"] * 10


def test_an_answer_computed_across_a_clear_is_not_kept_nor_joined() -> None:
    cache, compute = ReadCache(10), Counter(delay=0.3)
    first: list[bytes] = []
    leader = threading.Thread(target=lambda: first.append(cache.get("g", "k", compute)))
    leader.start()
    time.sleep(0.1)  # the leader is computing
    cache.clear("g")  # a change commits meanwhile
    assert cache.get("g", "k", compute) == b"2"  # a later request does not join the old one
    leader.join()
    assert first == [b"1"]
    assert cache.get("g", "k", compute) == b"2"  # the kept answer is the one after the change


def test_a_failed_computation_is_retried_by_its_followers() -> None:
    cache = ReadCache(10)
    calls = []

    def flaky() -> bytes:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.2)
            raise RuntimeError("database hiccup")
        return b"ok"

    errors, answers = [], []

    def leader() -> None:
        try:
            cache.get("g", "k", flaky)
        except RuntimeError as error:
            errors.append(error)

    thread = threading.Thread(target=leader)
    thread.start()
    time.sleep(0.05)
    answers.append(cache.get("g", "k", flaky))
    thread.join()
    assert len(errors) == 1 and answers == [b"ok"]


def test_the_cache_is_bounded() -> None:
    cache = ReadCache(10, max_entries=5)
    for i in range(12):
        cache.get("g", str(i), lambda: b"x")
    assert len(cache._entries) <= 5


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_server_with_cache(postgres_url: str, make_study) -> None:
    study = make_study()
    name = study.study_name
    headers = {"Authorization": f"Bearer {TOKENS[0]}"}
    with serve(settings_for(postgres_url, api_cache_seconds=60)) as base:
        http = httpx.Client(base_url=base, headers=headers)
        before = http.get("/api/v1/studies", params={"limit": 500}).json()
        assert http.get(f"/api/v1/studies/{name}").json()["state"] == "queued"
        study.set_user_attr(attrs.STATUS, attrs.STOPPED)  # behind the API's back
        assert http.get(f"/api/v1/studies/{name}").json()["state"] == "queued"  # reused
        for token in (None, "wrong"):  # a cached answer is no way around the token
            auth = {"Authorization": f"Bearer {token}"} if token else {}
            refused = httpx.get(f"{base}/api/v1/studies/{name}", headers=auth)
            assert refused.status_code == 401
        resumed = http.post(f"/api/v1/studies/{name}/stop")  # through the API: at once
        assert resumed.json()["state"] == "stopped"
        assert http.get(f"/api/v1/studies/{name}").json()["state"] == "stopped"
        body = {"task": "mlp-digits", "algorithm": "pc-se", "n_trials": 1}
        created = http.post("/api/v1/studies", json=body).json()["name"]
        after = http.get("/api/v1/studies", params={"limit": 500}).json()
        assert after["total"] == before["total"] + 1
        assert created in {s["name"] for s in after["items"]}
        assert http.get("/api/v1/studies/no-such-study").status_code == 404

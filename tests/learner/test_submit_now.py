"""learning.submit_test_now, the submit path the study page uses: read and graded outside the write lock,
checked again under it. The same rules as submit_test hold when submissions race, on SQLite and PostgreSQL."""

import threading

import pytest
from sqlalchemy import func, select

from engine import learning, summaries
from engine.errors import InputError
from engine.store.models import Attempt, ModuleResult, Response
from tests.learner.test_learning import COURSE, MODULE, RIGHT, WRONG, count_attempts, record, walk_to_post_test

pytestmark = pytest.mark.learner


def now(store, user_id, kind, answers, key):
    return learning.submit_test_now(store.sessions, course=COURSE, module=MODULE, user_id=user_id, kind=kind,
                                    answers=answers, key=key)


def race(*calls):
    """Run the calls at the same moment in threads; each gives its result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    out: list[object] = [None] * len(calls)

    def run(n, call):
        barrier.wait()
        try:
            out[n] = call()
        except Exception as exc:  # noqa: BLE001 - the test looks at which one was refused
            out[n] = exc

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def test_kept_once_and_answered_again_from_the_read(store, learner):
    first = now(store, learner, "pre", RIGHT, "k")
    again = now(store, learner, "pre", RIGHT, "k")
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.attempt_id == first.attempt_id and again.score == first.score
    assert count_attempts(store, learner, "pre") == 1
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Response)) == 3
        row = s.get(ModuleResult, (learner, MODULE.id))
        assert row.pre_attempt_id == first.attempt_id and row.pre_percent == 100


def test_the_same_rules_as_submit_test(store, learner):
    with pytest.raises(InputError, match="item t01: 'z' is not one of its options"):
        now(store, learner, "pre", {**RIGHT, "t01": "z"}, "bad")
    assert count_attempts(store, learner, "pre") == 0
    with pytest.raises(InputError, match="the post-test is not open now"):
        now(store, learner, "post", RIGHT, "early")
    now(store, learner, "pre", WRONG, "pre-1")
    with pytest.raises(InputError, match="the pre-test is taken once"):
        now(store, learner, "pre", RIGHT, "pre-2")
    walk_to_post_test(store, learner)
    assert now(store, learner, "post", RIGHT, "post-1").score.percent == 100
    with pytest.raises(InputError, match="the post-test is not open now"):  # passed: no more attempts
        now(store, learner, "post", RIGHT, "post-2")
    assert count_attempts(store, learner, "post") == 1
    assert learning.passed(MODULE, record(store, learner))
    assert_summaries_match_the_record(store)


def assert_summaries_match_the_record(store):
    """The summary rows and item counts written as plain rows equal what a rebuild from the record gives."""
    with store.sessions() as s:
        pairs = s.execute(select(ModuleResult.user_id, ModuleResult.module_id)).all()
        assert pairs and summaries.stale(s, pairs) == []
        assert summaries.stale_item_counts(s) == []


def test_another_learners_key_is_refused(store, learner):
    now(store, learner, "pre", RIGHT, "mine")
    with pytest.raises(InputError, match="belongs to another learner"):
        now(store, "someone-else", "pre", RIGHT, "mine")


def test_the_same_submission_racing_itself_is_kept_once(store, learner):
    out = race(*[lambda: now(store, learner, "pre", RIGHT, "twice")] * 4)
    assert all(isinstance(o, learning.Submitted) for o in out), out
    assert len({o.attempt_id for o in out}) == 1
    assert sorted(o.duplicate for o in out) == [False, True, True, True]
    assert count_attempts(store, learner, "pre") == 1


def test_two_pre_tests_racing_keep_one_and_refuse_the_other(store, learner):
    # Both read "no pre-test yet" before either holds the lock; the check under the lock refuses the second.
    out = race(lambda: now(store, learner, "pre", RIGHT, "a"), lambda: now(store, learner, "pre", WRONG, "b"))
    kept = [o for o in out if isinstance(o, learning.Submitted)]
    refused = [o for o in out if isinstance(o, InputError)]
    assert len(kept) == 1 and len(refused) == 1, out
    assert "the pre-test is taken once" in str(refused[0])
    assert count_attempts(store, learner, "pre") == 1


def test_racing_post_tests_never_exceed_the_attempts_allowed(store, learner):
    walk_to_post_test(store, learner)
    now(store, learner, "post", WRONG, "post-1")  # one of two attempts left
    out = race(*[lambda k=k: now(store, learner, "post", WRONG, k) for k in ("x", "y", "z")])
    assert sum(isinstance(o, learning.Submitted) for o in out) == 1, out
    assert all("not open now" in str(o) for o in out if isinstance(o, Exception)), out
    assert count_attempts(store, learner, "post") == COURSE.post_test_attempts
    with store.sessions() as s:
        assert s.get(ModuleResult, (learner, MODULE.id)).posts == COURSE.post_test_attempts
        assert s.scalar(select(func.count()).select_from(Attempt).where(Attempt.kind == "post")) == 2
    assert_summaries_match_the_record(store)

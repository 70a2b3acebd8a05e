"""The national figures are computed from sums and counts a GROUP BY returns; they must equal the
figures computed row by row, which the rest of the trainer pages use (and which tests/trainer/
test_analytics.py checks against NumPy and SciPy)."""

from __future__ import annotations

import math
import random

import pytest

from engine.analytics import (
    LearnerScore,
    Person,
    PrePostSums,
    disaggregate,
    disaggregate_sums,
    prepost_summary,
    prepost_sums,
    summary_from_sums,
)
from engine.analytics_items import ItemResponse, item_analysis, item_analysis_from_counts, item_counts

pytestmark = pytest.mark.trainer


def close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, tuple):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(close(a[k], b[k]) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def same(x, y) -> None:
    for field in x.__dataclass_fields__:
        assert close(getattr(x, field), getattr(y, field)), (field, getattr(x, field), getattr(y, field))


def scores(rng: random.Random, n: int) -> list[LearnerScore]:
    rows = []
    for i in range(n):
        pre = rng.choice([None, 100.0, *(100 * k / 12 for k in range(13))])
        post = rng.choice([None, *(100 * k / 12 for k in range(13))])
        rows.append(LearnerScore(f"l{i}", "m", pre, post))
    return rows


@pytest.mark.parametrize("n", [0, 1, 2, 7, 300])
def test_summary_from_sums_equals_the_row_by_row_summary(n):
    rows = scores(random.Random(n), n)
    same(summary_from_sums(prepost_sums(rows, 70)), prepost_summary(rows, 70))


def test_sums_add_up_across_groups():
    rows = scores(random.Random(5), 200)
    parts = [prepost_sums(rows[i:i + 37], 70) for i in range(0, 200, 37)]
    same(summary_from_sums(sum(parts, PrePostSums())), prepost_summary(rows, 70))


def test_disaggregate_sums_equals_disaggregate_with_its_suppression():
    rng = random.Random(9)
    rows = scores(rng, 120)
    people = [Person(r.learner_id, "other" if n < 3 else rng.choice(["female", "male"]), None, None, None, None)
              for n, r in enumerate(rows)]
    sex = {p.learner_id: p.sex for p in people}
    groups = {g: prepost_sums([r for r in rows if sex[r.learner_id] == g], 70) for g in set(sex.values())}
    expected = disaggregate(rows, people, "sex", 70)
    got = disaggregate_sums(groups)
    assert [(g.group, g.total, g.suppressed, g.n) for g in got] == [(g.group, g.total, g.suppressed, g.n)
                                                                     for g in expected]
    assert "other" in [g.group for g in got if g.suppressed]  # three learners: the rule is exercised
    for a, b in zip(got, expected, strict=True):
        if a.summary is not None:
            same(a.summary, b.summary)


def responses(rng: random.Random, learners: int, items: list[str], partial: int = 0) -> list[ItemResponse]:
    rows = []
    for n in range(learners):
        ability = rng.random()
        for j, item in enumerate(items):
            if n < partial and j == 0:
                continue  # an attempt lacking an item: left out, counted as excluded
            right = rng.random() < ability * (0.5 + j / len(items))
            option = "a" if right else rng.choice(["b", "c", ""])
            rows.append(ItemResponse(f"l{n}", item, (option,) if option else (), right))
    return rows


@pytest.mark.parametrize("learners,partial", [(0, 0), (1, 0), (2, 0), (15, 3), (400, 10)])
def test_item_analysis_from_counts_equals_item_analysis(learners, partial):
    items = [f"i{k}" for k in range(6)]
    options = {i: ("a", "b", "c", "d") for i in items}
    rows = responses(random.Random(learners), learners, items, partial)
    counts, excluded = item_counts(rows, items)
    got = item_analysis_from_counts(counts, items, options, excluded)
    expected = item_analysis(rows, items, options)
    same(got.overall, expected.overall)
    for a, b in zip(got.items, expected.items, strict=True):
        same(a, b)


def test_ties_at_the_cut_are_shared_the_same_way():
    items = ["x", "y"]
    rows = [ItemResponse(f"l{n}", i, ("a",), n % 3 == 0 or i == "y") for n in range(11) for i in items]
    counts, excluded = item_counts(rows, items)
    assert excluded == 0
    got = item_analysis_from_counts(counts, items)
    expected = item_analysis(rows, items)
    assert [s.discrimination for s in got.items] == pytest.approx([s.discrimination for s in expected.items])

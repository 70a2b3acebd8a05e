"""Item analysis of a test on learners' first attempts, as Moodle's quiz statistics define it, and
each item's facility on the pre-test beside the post-test.

Pure functions over plain rows, read by attribute (the dataclass below, SQLAlchemy rows, ...). Every
graded item is scored 0 or 1 (engine.quiz gives no part marks), so Cronbach's alpha equals KR-20.
Flags are ids the app translates; their thresholds are the constants below.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean, stdev, variance

from engine.errors import InputError

UPPER_LOWER_SHARE = 0.27
"""The share of attempts in each of the upper and lower groups of the discrimination index (Kelley)."""
TOO_EASY = 0.9
"""Flag "too_easy" when the facility is above this: almost everyone knew it already."""
TOO_HARD = 0.2
"""Flag "too_hard" when the facility is below this: the item, its key or the lesson may be wrong."""
LOW_DISCRIMINATION = 0.2
"""Flag "low_discrimination" when the item-rest correlation or the discrimination index is below
this: stronger learners did not do better on the item than weaker ones."""
MIN_ATTEMPTS_FOR_CORRELATION_FLAGS = 10
"""Below this many attempts "low_discrimination" and "low_reliability" are not raised: correlations
over a handful of learners are noise. The figures are still given."""
MIN_ATTEMPTS_FOR_UNUSED_DISTRACTOR = 20
"""Flag "unused_distractor" only from this many attempts: in a small class an option may go unchosen
by chance."""
LOW_RELIABILITY = 0.7
"""Flag the test "low_reliability" when Cronbach's alpha is below this."""
_EPS = 1e-9
"""A figure within this of a threshold is taken as on it (0.2 may be computed as 0.19999999999999996)."""


@dataclass(frozen=True)
class ItemResponse:
    """One learner's answer to one item on their first attempt at a test. `option_ids` is empty
    for an unanswered item; `correct` None (ungraded short text) rows are ignored."""

    learner_id: str
    item_id: str
    option_ids: tuple[str, ...]
    correct: bool | None


@dataclass(frozen=True)
class ItemStats:
    item_id: str
    n: int
    """Attempts analysed (the same for every item)."""
    facility: float | None
    """Share correct; None without attempts."""
    sd: float | None
    """Sample standard deviation of the item's 0/1 scores; None below two attempts."""
    discrimination: float | None
    """Facility in the upper 27% by total score minus facility in the lower 27%; None below two attempts."""
    item_rest: float | None
    """Point-biserial correlation of the item with the total of the other items; None when either has
    zero variance (everyone right, everyone wrong, or equal rest scores) or below two attempts."""
    option_shares: Mapping[str, float]
    """Share of attempts choosing each option (a multiple-choice attempt counts for each option it ticks);
    listed options first, in their order, then any others seen; empty without attempts."""
    share_unanswered: float | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class OverallStats:
    """The test as a whole. Scores are numbers of items correct, out of n_items."""

    n: int
    n_items: int
    excluded: int
    """Attempts left out because they have some of the items but not all (another version of the test)."""
    mean: float | None
    sd: float | None
    """Sample standard deviation of the total scores; None below two attempts."""
    alpha: float | None
    """Cronbach's alpha (= KR-20); None below two attempts or two items, or when every total is equal.
    It can be negative; it is reported as it is."""
    sem: float | None
    """Standard error of measurement, sd * sqrt(1 - alpha), in items."""
    flags: tuple[str, ...]


@dataclass(frozen=True)
class ItemAnalysis:
    overall: OverallStats
    items: tuple[ItemStats, ...]


def _by_learner(responses: Iterable[ItemResponse]) -> dict[str, dict[str, ItemResponse]]:
    """Each learner's graded responses by item; InputError for an item answered twice."""
    answers: dict[str, dict[str, ItemResponse]] = defaultdict(dict)
    for r in responses:
        if r.correct is None:
            continue
        if r.item_id in answers[r.learner_id]:
            raise InputError(f"responses: learner {r.learner_id} has item {r.item_id} twice; pass first attempts only")
        answers[r.learner_id][r.item_id] = r
    return answers


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    if len(xs) < 2:
        return None
    mx, my = fmean(xs), fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / math.sqrt(sxx * syy)


def _group_facility(scores: Sequence[int], totals: Sequence[int], size: int, highest: bool) -> float:
    """Facility among the `size` attempts with the highest (or lowest) totals. Attempts tied at the
    cut share its remaining places equally: the average over every way of breaking the tie."""
    by_total: dict[int, list[int]] = defaultdict(list)
    for score, total in zip(scores, totals, strict=True):
        by_total[total].append(score)
    correct, taken = 0.0, 0
    for total in sorted(by_total, reverse=highest):
        tied = by_total[total]
        room = size - taken
        if len(tied) >= room:
            return (correct + sum(tied) * room / len(tied)) / size
        correct += sum(tied)
        taken += len(tied)
    return correct / size


def discrimination_index(scores: Sequence[int], totals: Sequence[int]) -> float | None:
    """Upper-minus-lower facility. Each group holds round(27% of attempts) (at least one), ranked by
    total score including the item. Ties at a cut are shared fractionally (see _group_facility), so
    the index does not depend on the order of the rows; when every total is equal both groups are
    everyone and the index is 0. None below two attempts."""
    if len(scores) < 2:
        return None
    size = max(1, math.floor(UPPER_LOWER_SHARE * len(scores) + 0.5))
    return _group_facility(scores, totals, size, True) - _group_facility(scores, totals, size, False)


def _option_shares(chosen: Sequence[tuple[str, ...]], listed: Sequence[str]) -> dict[str, float]:
    if not chosen:
        return {}
    counts = dict.fromkeys(listed, 0)
    for options in chosen:
        for option in set(options):
            counts[option] = counts.get(option, 0) + 1
    order = [*listed, *sorted(set(counts) - set(listed))]
    return {option: counts[option] / len(chosen) for option in order}


def _item_flags(facility: float | None, n: int, correlations: Sequence[float | None],
                shares: Mapping[str, float]) -> tuple[str, ...]:
    if facility is None:
        return ()
    flags = []
    if facility > TOO_EASY + _EPS:
        flags.append("too_easy")
    if facility < TOO_HARD - _EPS:
        flags.append("too_hard")
    varies = 0.0 < facility < 1.0
    if varies and n >= MIN_ATTEMPTS_FOR_CORRELATION_FLAGS and any(
            c is not None and c < LOW_DISCRIMINATION - _EPS for c in correlations):
        flags.append("low_discrimination")
    # With anyone right, every key option was ticked, so an option nobody chose is a distractor.
    if facility > 0.0 and n >= MIN_ATTEMPTS_FOR_UNUSED_DISTRACTOR and any(s == 0.0 for s in shares.values()):
        flags.append("unused_distractor")
    return tuple(flags)


def item_analysis(responses: Iterable[ItemResponse], item_ids: Sequence[str] | None = None,
                  options: Mapping[str, Sequence[str]] | None = None) -> ItemAnalysis:
    """Moodle-style statistics of one test (a module's pre-test or its post-test), first attempts only.

    `item_ids` is the test's item list, in its order (default: every item in the rows, sorted); rows
    for other items are ignored. Attempts lacking one of the items are left out (counted in
    `excluded`), so every total is over the same items. `options` gives each item's option ids, so
    an option nobody chose still shows with share 0 and can raise "unused_distractor"; without it,
    only chosen options appear. Flags: see the module constants; "low_discrimination" is not raised on
    an item everyone got right or wrong (its facility flag says why). No attempts: every figure None.
    InputError for an item twice in one learner's rows.
    """
    answers = _by_learner(responses)
    items = list(item_ids) if item_ids is not None else sorted({i for a in answers.values() for i in a})
    complete = sorted(learner for learner, a in answers.items() if all(i in a for i in items))
    partial = sum(1 for a in answers.values() if any(i in a for i in items)) - len(complete) if items else 0
    matrix = [[int(bool(answers[learner][i].correct)) for i in items] for learner in complete]
    totals = [sum(row) for row in matrix]
    stats = []
    for j, item_id in enumerate(items):
        scores = [row[j] for row in matrix]
        chosen = [answers[learner][item_id].option_ids for learner in complete]
        facility = fmean(scores) if scores else None
        rest = _pearson(scores, [t - s for t, s in zip(totals, scores, strict=True)])
        index = discrimination_index(scores, totals)
        shares = _option_shares(chosen, (options or {}).get(item_id, ()))
        stats.append(ItemStats(
            item_id=item_id, n=len(scores), facility=facility, sd=stdev(scores) if len(scores) >= 2 else None,
            discrimination=index, item_rest=rest, option_shares=shares,
            share_unanswered=sum(1 for c in chosen if not c) / len(chosen) if chosen else None,
            flags=_item_flags(facility, len(scores), (rest, index), shares),
        ))
    return ItemAnalysis(_overall(matrix, len(items), partial), tuple(stats))


def _overall(matrix: Sequence[Sequence[int]], n_items: int, excluded: int) -> OverallStats:
    totals = [sum(row) for row in matrix]
    n = len(totals)
    sd = stdev(totals) if n >= 2 else None
    alpha = None
    if n >= 2 and n_items >= 2 and sd is not None and sd > 0:
        item_variance = sum(variance([row[j] for row in matrix]) for j in range(n_items))
        # At most 1 in exact arithmetic; items in perfect step can round a hair above it.
        alpha = min(1.0, n_items / (n_items - 1) * (1.0 - item_variance / variance(totals)))
    low = alpha is not None and n >= MIN_ATTEMPTS_FOR_CORRELATION_FLAGS and alpha < LOW_RELIABILITY - _EPS
    return OverallStats(
        n=n, n_items=n_items, excluded=excluded, mean=fmean(totals) if totals else None, sd=sd, alpha=alpha,
        sem=sd * math.sqrt(1.0 - alpha) if sd is not None and alpha is not None else None,
        flags=("low_reliability",) if low else (),
    )


@dataclass(frozen=True)
class ItemPrePost:
    """An item's facility on the pre-test and on the post-test; None where nobody answered it there."""

    item_id: str
    n_pre: int
    facility_pre: float | None
    n_post: int
    facility_post: float | None

    @property
    def change(self) -> float | None:
        if self.facility_pre is None or self.facility_post is None:
            return None
        return self.facility_post - self.facility_pre


def item_facility_pre_post(pre: Iterable[ItemResponse], post: Iterable[ItemResponse],
                           item_ids: Sequence[str] | None = None, paired_only: bool = False) -> tuple[ItemPrePost, ...]:
    """Each item's facility on the pre-test beside the post-test, first attempts.

    Items come in the order of `item_ids` (default: every item in either test, sorted). Each item is
    counted over the learners who answered it on that test, so an item on only one of the tests has
    None on the other. With `paired_only`, only learners who answered the item on both tests count,
    so the change is within the same people. InputError for an item twice in one learner's rows.
    """
    before, after = _by_learner(pre), _by_learner(post)
    if item_ids is None:
        item_ids = sorted({i for a in (*before.values(), *after.values()) for i in a})
    result = []
    for item_id in item_ids:
        scores_pre = {learner: a[item_id].correct for learner, a in before.items() if item_id in a}
        scores_post = {learner: a[item_id].correct for learner, a in after.items() if item_id in a}
        if paired_only:
            both = scores_pre.keys() & scores_post.keys()
            scores_pre = {k: v for k, v in scores_pre.items() if k in both}
            scores_post = {k: v for k, v in scores_post.items() if k in both}
        result.append(ItemPrePost(
            item_id, len(scores_pre), _share(scores_pre.values()), len(scores_post), _share(scores_post.values())))
    return tuple(result)


def _share(values: Iterable[bool | None]) -> float | None:
    values = list(values)
    return sum(1 for v in values if v) / len(values) if values else None


@dataclass(frozen=True)
class ItemCount:
    """How many first attempts with total score `total` (items right, over the whole test) answered
    `item_id` with `option_ids`, right or wrong: what one GROUP BY over a country's responses returns."""

    item_id: str
    total: int
    option_ids: tuple[str, ...]
    correct: bool
    count: int


def item_analysis_from_counts(counts: Iterable[ItemCount], item_ids: Sequence[str],
                              options: Mapping[str, Sequence[str]] | None = None, excluded: int = 0) -> ItemAnalysis:
    """`item_analysis` of the attempts the counts describe: every attempt counted has every item of
    `item_ids` (the caller leaves out the rest and says how many in `excluded`). Equal to
    `item_analysis` on the same attempts, up to rounding (about 1e-9)."""
    items = list(item_ids)
    # Per item: attempts and right answers by total score; options chosen; unanswered.
    by_total: dict[str, dict[int, list[int]]] = {i: defaultdict(lambda: [0, 0]) for i in items}
    chosen: dict[str, dict[str, int]] = {i: defaultdict(int) for i in items}
    blank: dict[str, int] = dict.fromkeys(items, 0)
    for c in counts:
        if c.item_id not in by_total:
            continue
        cell = by_total[c.item_id][c.total]
        cell[0] += c.count
        cell[1] += c.count if c.correct else 0
        for option in set(c.option_ids):
            chosen[c.item_id][option] += c.count
        if not c.option_ids:
            blank[c.item_id] += c.count
    # Every attempt answers every item once, so any item's counts give the distribution of totals.
    totals: dict[int, int] = {t: cell[0] for t, cell in by_total[items[0]].items()} if items else {}
    n = sum(totals.values())
    stats, item_variances = [], []
    for item_id in items:
        cells = by_total[item_id]
        right = sum(cell[1] for cell in cells.values())
        facility = right / n if n else None
        sd = math.sqrt(right * (n - right) / (n * (n - 1))) if n >= 2 else None
        item_variances.append(right * (n - right) / (n * (n - 1)) if n >= 2 else 0.0)
        # Item-rest correlation from sums: x = item score, y = total - x.
        sx = right
        sy = sum(t * cell[0] - cell[1] for t, cell in cells.items())
        syy = sum(cell[1] * (t - 1) ** 2 + (cell[0] - cell[1]) * t ** 2 for t, cell in cells.items())
        sxy = sum(cell[1] * (t - 1) for t, cell in cells.items())
        rest = None
        if n >= 2:
            vxx, vyy = n * sx - sx * sx, n * syy - sy * sy
            if vxx > 0 and vyy > 0:
                rest = (n * sxy - sx * sy) / math.sqrt(vxx * vyy)
        index = None
        if n >= 2:
            size = max(1, math.floor(UPPER_LOWER_SHARE * n + 0.5))
            index = _group_facility_counts(cells, size, True) - _group_facility_counts(cells, size, False)
        listed = (options or {}).get(item_id, ())
        counts_by_option = dict.fromkeys(listed, 0)
        counts_by_option.update(chosen[item_id])
        order = [*listed, *sorted(set(counts_by_option) - set(listed))]
        shares = {o: counts_by_option[o] / n for o in order} if n else {}
        stats.append(ItemStats(
            item_id=item_id, n=n, facility=facility, sd=sd, discrimination=index, item_rest=rest,
            option_shares=shares, share_unanswered=blank[item_id] / n if n else None,
            flags=_item_flags(facility, n, (rest, index), shares)))
    return ItemAnalysis(_overall_from_totals(totals, item_variances, len(items), excluded), tuple(stats))


def _group_facility_counts(cells: Mapping[int, Sequence[int]], size: int, highest: bool) -> float:
    """_group_facility from (attempts, right) per total score."""
    correct, taken = 0.0, 0
    for total in sorted(cells, reverse=highest):
        attempts, right = cells[total]
        room = size - taken
        if attempts >= room:
            return (correct + right * room / attempts) / size
        correct += right
        taken += attempts
    return correct / size


def _overall_from_totals(totals: Mapping[int, int], item_variances: Sequence[float], n_items: int,
                         excluded: int) -> OverallStats:
    n = sum(totals.values())
    mean = sum(t * k for t, k in totals.items()) / n if n else None
    var = sum(k * (t - mean) ** 2 for t, k in totals.items()) / (n - 1) if n >= 2 else None
    sd = math.sqrt(var) if var is not None else None
    alpha = None
    if n >= 2 and n_items >= 2 and sd is not None and sd > 0:
        alpha = min(1.0, n_items / (n_items - 1) * (1.0 - sum(item_variances) / var))
    low = alpha is not None and n >= MIN_ATTEMPTS_FOR_CORRELATION_FLAGS and alpha < LOW_RELIABILITY - _EPS
    return OverallStats(
        n=n, n_items=n_items, excluded=excluded, mean=mean, sd=sd, alpha=alpha,
        sem=sd * math.sqrt(1.0 - alpha) if sd is not None and alpha is not None else None,
        flags=("low_reliability",) if low else ())


def item_counts(responses: Iterable[ItemResponse], item_ids: Sequence[str]) -> tuple[list[ItemCount], int]:
    """The counts `item_analysis_from_counts` takes, from rows (the reference for the GROUP BY), and the
    number of attempts left out for lacking some of the items."""
    answers = _by_learner(responses)
    complete = [a for a in answers.values() if all(i in a for i in item_ids)]
    partial = sum(1 for a in answers.values() if any(i in a for i in item_ids)) - len(complete)
    counts: dict[tuple, int] = defaultdict(int)
    for a in complete:
        total = sum(1 for i in item_ids if a[i].correct)
        for i in item_ids:
            counts[(i, total, tuple(sorted(a[i].option_ids)), bool(a[i].correct))] += 1
    return [ItemCount(*key, count) for key, count in counts.items()], partial

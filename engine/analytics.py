"""Analytics for trainers: pre/post gains, disaggregation, completion over time, the module funnel.

Pure functions over plain rows: no database, no Streamlit, no pandas. Rows are read by attribute, so
the dataclasses below, SQLAlchemy result rows, or any object with the same attribute names will do.
Scores are percentages, 0-100. Every function documents what it does with the awkward cases (an empty
group, one learner, a pre-test of 100%, a missing post-test); the app translates the `None`s into
"not enough data" and never computes a figure itself. Item analysis lives in `engine.analytics_items`.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import fmean, stdev

from engine.errors import InputError

CONFIDENCE = 0.95
"""The confidence level of the interval around the mean gain."""
MIN_GROUP_SIZE = 5
"""Fewer learners than this in a group and its figures are suppressed: they could identify a person."""
DISAGGREGATION_KEYS = ("sex", "province_code", "org_type", "position", "cohort_id")
"""The `Person` attributes a report may be split by."""
FULL_MARKS = 100.0
_EPS = 1e-9
"""As in engine.quiz: a score a rounding error below the pass mark passes; an sd this small is zero."""


# --- the t distribution, for the confidence interval -----------------------------------------------


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's evaluation of the continued fraction of the incomplete beta function (converges for
    x < (a + 1) / (a + b + 2); the caller swaps a and b otherwise)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return h


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularized incomplete beta function, for 0 <= x <= 1 and a, b > 0."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def _t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for t >= 0 with df degrees of freedom."""
    return 0.5 * regularized_beta(df / (df + t * t), df / 2.0, 0.5)


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t distribution with df degrees of freedom (scipy's t.ppf).

    Bisection on the upper tail, written through the regularized incomplete beta function; it works
    on the smaller tail, min(p, 1 - p), so quantiles far out keep their precision. ValueError unless
    0 < p < 1 and df > 0. Remembered: a page of groups asks for the same few (p, df) again and again.
    """
    if not (0.0 < p < 1.0) or not df > 0:
        raise ValueError(f"t_quantile: expected 0 < p < 1 and df > 0, got p={p}, df={df}")
    tail = min(p, 1.0 - p)
    if tail == 0.5:
        return 0.0
    low, high = 0.0, 1.0
    while _t_upper_tail(high, df) > tail:
        low, high = high, 2.0 * high
    for _ in range(200):
        middle = (low + high) / 2.0
        if middle in (low, high):
            break
        if _t_upper_tail(middle, df) > tail:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0 if p > 0.5 else -(low + high) / 2.0


# --- pre/post summaries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LearnerScore:
    """One learner's pre-test and post-test score in one module, in percent; None when not taken.
    (Named apart from engine.quiz.Score, which is one graded attempt.)"""

    learner_id: str
    module_id: str
    pre: float | None
    post: float | None


@dataclass(frozen=True)
class PrePostSummary:
    """A group's pre/post figures for one module. Means, gain, its interval, the normalized gains
    and the effect size are over the *paired* learners (both tests taken), so that
    mean_gain = mean_post - mean_pre; the pass share is over everyone who took the post-test."""

    n: int
    """Learners in the group (rows)."""
    n_pre: int
    n_post: int
    n_paired: int
    mean_pre: float | None
    mean_post: float | None
    mean_gain: float | None
    """Mean of post - pre, in percentage points."""
    sd_gain: float | None
    """Sample standard deviation of post - pre; None below two paired learners."""
    gain_ci: tuple[float, float] | None
    """95% interval of the mean gain (t, df = n_paired - 1); None below two paired learners."""
    normalized_gain: float | None
    """Mean over learners of (post - pre) / (100 - pre), leaving out those with pre = 100."""
    n_normalized: int
    """The learners in normalized_gain: the paired ones with a pre-test below 100."""
    hake_gain: float | None
    """Class-level (mean_post - mean_pre) / (100 - mean_pre); None when mean_pre = 100."""
    cohens_d: float | None
    """Paired effect size mean_gain / sd_gain; None below two paired learners or when sd_gain = 0."""
    n_passed: int
    share_passed: float | None
    """n_passed / n_post: post-test at or above the pass mark; None when nobody took the post-test."""


def _checked_scores(scores: Iterable[LearnerScore]) -> list[LearnerScore]:
    """The rows as a list, or InputError naming the row: one module, each learner once, 0-100."""
    rows = list(scores)
    modules = sorted({str(r.module_id) for r in rows})
    if len(modules) > 1:
        raise InputError(f"scores: expected the rows of one module, got {', '.join(modules)}")
    seen: set[str] = set()
    for r in rows:
        if r.learner_id in seen:
            raise InputError(f"scores: learner {r.learner_id} appears twice in module {r.module_id}")
        seen.add(r.learner_id)
        for test, value in (("pre", r.pre), ("post", r.post)):
            if value is not None and not 0.0 <= value <= FULL_MARKS:
                raise InputError(f"scores: learner {r.learner_id} has a {test}-test score of {value}, outside 0-100")
    return rows


def prepost_summary(scores: Iterable[LearnerScore], pass_mark: float) -> PrePostSummary:
    """The pre/post figures of one group in one module.

    Edge cases: an empty group, or one where nobody took both tests, has n_paired = 0 and every mean
    None. One paired learner has means and a gain but no sd, interval or effect size. Everyone's gain
    the same (sd = 0): the interval has zero width and cohens_d is None. A learner with pre = 100 has
    no room to gain, so is left out of normalized_gain (n_normalized says how many remain; None when
    none do); if every paired learner had 100, hake_gain is None too. A learner near 100 (say 99) who
    falls far has a large negative normalized gain: it is averaged as it is. A missing post-test
    counts nowhere but n and n_pre. InputError for rows of two modules, a learner twice, or a score
    outside 0-100.
    """
    rows = _checked_scores(scores)
    paired = [(r.pre, r.post) for r in rows if r.pre is not None and r.post is not None]
    posts = [r.post for r in rows if r.post is not None]
    n_passed = sum(1 for post in posts if post + _EPS >= pass_mark)
    pres = [pre for pre, _ in paired]
    gains = [post - pre for pre, post in paired]
    normalized = [(post - pre) / (FULL_MARKS - pre) for pre, post in paired if pre < FULL_MARKS - _EPS]
    mean_pre = fmean(pres) if paired else None
    mean_post = fmean(post for _, post in paired) if paired else None
    mean_gain = fmean(gains) if paired else None
    sd_gain = stdev(gains) if len(gains) >= 2 else None
    return PrePostSummary(
        n=len(rows), n_pre=sum(1 for r in rows if r.pre is not None), n_post=len(posts), n_paired=len(paired),
        mean_pre=mean_pre, mean_post=mean_post, mean_gain=mean_gain, sd_gain=sd_gain,
        gain_ci=_mean_interval(mean_gain, sd_gain, len(gains)),
        normalized_gain=fmean(normalized) if normalized else None, n_normalized=len(normalized),
        hake_gain=_hake(mean_pre, mean_post),
        cohens_d=mean_gain / sd_gain if mean_gain is not None and sd_gain is not None and sd_gain > _EPS else None,
        n_passed=n_passed, share_passed=n_passed / len(posts) if posts else None,
    )


def _mean_interval(mean: float | None, sd: float | None, n: int) -> tuple[float, float] | None:
    if mean is None or sd is None or n < 2:
        return None
    half = t_quantile(1.0 - (1.0 - CONFIDENCE) / 2.0, n - 1) * sd / math.sqrt(n)
    return (mean - half, mean + half)


def _hake(mean_pre: float | None, mean_post: float | None) -> float | None:
    if mean_pre is None or mean_post is None or mean_pre >= FULL_MARKS - _EPS:
        return None
    return (mean_post - mean_pre) / (FULL_MARKS - mean_pre)


# --- the same summary from sums, for groups too large to fetch row by row ---------------------------


@dataclass(frozen=True)
class PrePostSums:
    """What `prepost_summary` needs, as sums a database can compute in one pass (GROUP BY) and that add
    up across groups: the national overview sums cells of (module, sex, province) this way."""

    n: int = 0
    n_pre: int = 0
    n_post: int = 0
    n_paired: int = 0
    sum_pre: float = 0.0
    """Over the paired learners, like sum_post, sum_gain and sum_gain2."""
    sum_post: float = 0.0
    sum_gain: float = 0.0
    sum_gain2: float = 0.0
    sum_normalized: float = 0.0
    n_normalized: int = 0
    n_passed: int = 0

    def __add__(self, other: PrePostSums) -> PrePostSums:
        return PrePostSums(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple:
        return (self.n, self.n_pre, self.n_post, self.n_paired, self.sum_pre, self.sum_post, self.sum_gain,
                self.sum_gain2, self.sum_normalized, self.n_normalized, self.n_passed)


def prepost_sums(scores: Iterable[LearnerScore], pass_mark: float) -> PrePostSums:
    """The sums of one group's rows (the reference for what a GROUP BY must return)."""
    rows = _checked_scores(scores)
    paired = [(r.pre, r.post) for r in rows if r.pre is not None and r.post is not None]
    normalized = [(post - pre) / (FULL_MARKS - pre) for pre, post in paired if pre < FULL_MARKS - _EPS]
    return PrePostSums(
        n=len(rows), n_pre=sum(1 for r in rows if r.pre is not None),
        n_post=sum(1 for r in rows if r.post is not None), n_paired=len(paired),
        sum_pre=sum(pre for pre, _ in paired), sum_post=sum(post for _, post in paired),
        sum_gain=sum(post - pre for pre, post in paired), sum_gain2=sum((post - pre) ** 2 for pre, post in paired),
        sum_normalized=sum(normalized), n_normalized=len(normalized),
        n_passed=sum(1 for r in rows if r.post is not None and r.post + _EPS >= pass_mark))


def summary_from_sums(s: PrePostSums) -> PrePostSummary:
    """`prepost_summary` of the rows the sums came from (equal to it up to rounding, about 1e-9)."""
    k = s.n_paired
    mean_pre = s.sum_pre / k if k else None
    mean_post = s.sum_post / k if k else None
    mean_gain = s.sum_gain / k if k else None
    sd_gain = math.sqrt(max(0.0, (s.sum_gain2 - s.sum_gain * s.sum_gain / k) / (k - 1))) if k >= 2 else None
    return PrePostSummary(
        n=s.n, n_pre=s.n_pre, n_post=s.n_post, n_paired=k, mean_pre=mean_pre, mean_post=mean_post,
        mean_gain=mean_gain, sd_gain=sd_gain, gain_ci=_mean_interval(mean_gain, sd_gain, k),
        normalized_gain=s.sum_normalized / s.n_normalized if s.n_normalized else None,
        n_normalized=s.n_normalized, hake_gain=_hake(mean_pre, mean_post),
        cohens_d=mean_gain / sd_gain if mean_gain is not None and sd_gain is not None and sd_gain > _EPS else None,
        n_passed=s.n_passed, share_passed=s.n_passed / s.n_post if s.n_post else None,
    )


# --- disaggregation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """What a report may split learners by. An empty string counts as not recorded (None)."""

    learner_id: str
    sex: str | None
    province_code: str | None
    org_type: str | None
    position: str | None
    cohort_id: str | None


@dataclass(frozen=True)
class GroupSummary:
    """One row of a disaggregated report. A suppressed row carries no figures at all: the app shows
    its n as "n < 5" (or "suppressed" when it was hidden to protect another row)."""

    group: str | None
    """The key's value; None for learners for whom it is not recorded, and on the total row."""
    total: bool
    suppressed: bool
    n: int | None
    summary: PrePostSummary | None


def _too_small(parts: Sequence[PrePostSummary], minimum: int) -> bool:
    """Whether figures over these learners could point at fewer than `minimum` people: too few
    learners, or a mean or share that rests on 1 to minimum-1 of them."""
    n, paired, posts = (sum(getattr(s, f) for s in parts) for f in ("n", "n_paired", "n_post"))
    return n < minimum or 0 < paired < minimum or 0 < posts < minimum


def _group_order(group: str | None) -> tuple[bool, str]:
    return (group is None, str(group))


def _suppressed_groups(summaries: dict[str | None, PrePostSummary], minimum: int) -> set[str | None]:
    """Primary suppression (each group too small), then secondary: the total minus the shown rows
    would give the hidden rows' sums, so while the hidden rows together are too small, the smallest
    shown row is hidden as well."""
    hidden = {g for g, s in summaries.items() if _too_small([s], minimum)}
    while hidden and len(hidden) < len(summaries) and _too_small([summaries[g] for g in hidden], minimum):
        shown = [g for g in summaries if g not in hidden]
        hidden.add(min(shown, key=lambda g: (summaries[g].n, _group_order(g))))
    return hidden


def disaggregate(scores: Iterable[LearnerScore], people: Iterable[Person], key: str, pass_mark: float,
                 minimum: int = MIN_GROUP_SIZE) -> tuple[GroupSummary, ...]:
    """`prepost_summary` for each value of `key` (one of DISAGGREGATION_KEYS), then a total row.

    Groups come in order of their value, "not recorded" (a learner with no Person row, or an empty
    value) last, then the total. A group is suppressed when it has fewer than `minimum` learners, or
    when its paired or post-test figures rest on 1 to minimum-1 of them; when the suppressed groups
    together are that small, the smallest shown group is suppressed too, so no subtraction from the
    total gives them away. The total row follows the same rule on its own. Suppressed rows keep no
    n and no summary. One Person row per learner (for a learner in two cohorts, pass the cohort the
    report is about); InputError otherwise, or for an unknown key.
    """
    if key not in DISAGGREGATION_KEYS:
        raise InputError(f"key: expected one of {', '.join(DISAGGREGATION_KEYS)}, got {key!r}")
    rows = _checked_scores(scores)
    group_of: dict[str, str | None] = {}
    for person in people:
        if person.learner_id in group_of:
            raise InputError(f"people: learner {person.learner_id} appears twice")
        group_of[person.learner_id] = getattr(person, key) or None
    members: dict[str | None, list[LearnerScore]] = defaultdict(list)
    for row in rows:
        members[group_of.get(row.learner_id)].append(row)
    summaries = {g: prepost_summary(rs, pass_mark) for g, rs in members.items()}
    return _with_suppression(summaries, prepost_summary(rows, pass_mark), minimum)


def disaggregate_sums(groups: dict[str | None, PrePostSums], minimum: int = MIN_GROUP_SIZE) -> tuple[GroupSummary, ...]:
    """`disaggregate` from each group's sums (the groups' sums add up to the total row)."""
    total = sum(groups.values(), PrePostSums())
    return _with_suppression({g: summary_from_sums(s) for g, s in groups.items()}, summary_from_sums(total), minimum)


def _with_suppression(summaries: dict[str | None, PrePostSummary], overall: PrePostSummary,
                      minimum: int) -> tuple[GroupSummary, ...]:
    hidden = _suppressed_groups(summaries, minimum)
    result = [_group_row(g, summaries[g], g in hidden, total=False) for g in sorted(summaries, key=_group_order)]
    return (*result, _group_row(None, overall, _too_small([overall], minimum), total=True))


def _group_row(group: str | None, summary: PrePostSummary, hidden: bool, total: bool) -> GroupSummary:
    if hidden:
        return GroupSummary(group=group, total=total, suppressed=True, n=None, summary=None)
    return GroupSummary(group=group, total=total, suppressed=False, n=summary.n, summary=summary)


# --- completion and the funnel ---------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleProgress:
    """How far one learner enrolled in a module got. `completed_at` is a local (Cambodia) date;
    a datetime is cut to its date as given, so convert UTC timestamps first."""

    learner_id: str
    module_id: str
    took_pre_test: bool = False
    read_all_sections: bool = False
    passed_post_test: bool = False
    completed_at: date | None = None


@dataclass(frozen=True)
class WeekCount:
    week: str
    """The ISO week, "2026-W07"."""
    starts: date
    """Its Monday."""
    completed: int
    """Learners who completed the module in this week."""
    cumulative: int
    """Learners who completed it by the end of this week."""


@dataclass(frozen=True)
class ModuleCompletion:
    module_id: str
    enrolled: int
    completed: int
    weeks: tuple[WeekCount, ...]


@dataclass(frozen=True)
class Funnel:
    """Learners of one module at each stage, each stage counted on its own (see `funnel`)."""

    module_id: str
    enrolled: int
    took_pre_test: int
    read_all_sections: int
    passed_post_test: int


def _checked_progress(rows: Iterable[ModuleProgress]) -> dict[str, list[ModuleProgress]]:
    by_module: dict[str, list[ModuleProgress]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if (row.learner_id, row.module_id) in seen:
            raise InputError(f"progress: learner {row.learner_id} appears twice in module {row.module_id}")
        seen.add((row.learner_id, row.module_id))
        by_module[row.module_id].append(row)
    return by_module


def _monday(day: date) -> date:
    day = day.date() if isinstance(day, datetime) else day
    return day - timedelta(days=day.isoweekday() - 1)


def completion_by_week(rows: Iterable[ModuleProgress], through: date | None = None) -> tuple[ModuleCompletion, ...]:
    """Per module (in id order), the learners who completed it in each ISO week and in total so far.

    The weeks run without gaps (a week with no completions repeats the cumulative count) from the
    week of the first completion to the week of the last, or of `through` when that is later (to
    draw the line up to today). A module nobody has completed has no weeks. Empty input gives ().
    InputError for a learner twice in one module.
    """
    result = []
    for module_id, members in sorted(_checked_progress(rows).items()):
        per_week: dict[date, int] = defaultdict(int)
        for row in members:
            if row.completed_at is not None:
                per_week[_monday(row.completed_at)] += 1
        weeks: list[WeekCount] = []
        if per_week:
            monday, last = min(per_week), max(max(per_week), _monday(through) if through else min(per_week))
            cumulative = 0
            while monday <= last:
                cumulative += per_week.get(monday, 0)
                year, number, _ = monday.isocalendar()
                weeks.append(WeekCount(f"{year}-W{number:02d}", monday, per_week.get(monday, 0), cumulative))
                monday += timedelta(days=7)
        completed = sum(per_week.values())
        result.append(ModuleCompletion(module_id, len(members), completed, tuple(weeks)))
    return tuple(result)


def funnel(rows: Iterable[ModuleProgress]) -> tuple[Funnel, ...]:
    """Per module (in id order): enrolled, took the pre-test, read all sections, passed the post-test.

    Each stage is counted on its own rather than only among those who reached the stage before: in
    classroom mode a learner may pass a paper post-test without reading the sections in the app, and
    would otherwise vanish from the last bar. So the counts need not narrow. Empty input gives ();
    InputError for a learner twice in one module.
    """
    return tuple(
        Funnel(module_id, len(members), sum(1 for r in members if r.took_pre_test),
               sum(1 for r in members if r.read_all_sections), sum(1 for r in members if r.passed_post_test))
        for module_id, members in sorted(_checked_progress(rows).items())
    )


def overall_scores(by_module: dict[str, Sequence[LearnerScore]]) -> list[LearnerScore]:
    """One row per learner over the whole course: the mean of their pre-test scores and the mean of their
    post-test scores over the modules where they have both (paired), so a learner who took one module
    is compared on that module only. Learners with no paired module keep whatever single side they have
    (the mean of their pre-tests, or of their post-tests), so counts of takers stay right."""
    pres: dict[str, list[float]] = defaultdict(list)
    posts: dict[str, list[float]] = defaultdict(list)
    paired: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for rows in by_module.values():
        for s in rows:
            if s.pre is not None and s.post is not None:
                paired[s.learner_id].append((s.pre, s.post))
            elif s.pre is not None:
                pres[s.learner_id].append(s.pre)
            elif s.post is not None:
                posts[s.learner_id].append(s.post)
    result = []
    for learner in sorted(set(pres) | set(posts) | set(paired)):
        if paired[learner]:
            pairs = paired[learner]
            result.append(LearnerScore(learner, "all", sum(p for p, _ in pairs) / len(pairs),
                                       sum(q for _, q in pairs) / len(pairs)))
        else:
            pre = pres.get(learner)
            post = posts.get(learner)
            result.append(LearnerScore(learner, "all", sum(pre) / len(pre) if pre else None,
                                       sum(post) / len(post) if post else None))
    return result

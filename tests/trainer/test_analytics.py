"""Trainer analytics, as specifications: hand-computed tables for every function and its edge cases,
and an independent NumPy/SciPy check of the item statistics on the LSAT data (Bock & Lieberman 1970)."""

import itertools
import math
from datetime import date, datetime

import numpy as np
import pytest
import scipy.special
import scipy.stats

from engine.analytics import (
    LearnerScore,
    ModuleProgress,
    Person,
    completion_by_week,
    disaggregate,
    funnel,
    prepost_summary,
    regularized_beta,
    t_quantile,
)
from engine.analytics_items import (
    UPPER_LOWER_SHARE,
    ItemResponse,
    discrimination_index,
    item_analysis,
    item_facility_pre_post,
)
from engine.errors import InputError

pytestmark = pytest.mark.trainer


def scores(*rows, module="m1"):
    """LearnerScore rows from (learner, pre, post) triples."""
    return [LearnerScore(learner, module, pre, post) for learner, pre, post in rows]


# --- the t quantile --------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.975, 0.95, 0.995, 0.9, 0.6, 0.025, 1e-6])
def test_t_quantile_equals_scipy_for_df_1_to_200(p):
    worst = max(abs(t_quantile(p, df) - scipy.stats.t.ppf(p, df)) for df in range(1, 201))
    assert worst < 1e-6


@pytest.mark.parametrize(("p", "df", "expected"), [
    (0.975, 1, 12.706204736174698),  # the printed tables: 12.706, 4.303, 2.228, 1.960 in the limit
    (0.975, 2, 4.302652729749464),
    (0.975, 10, 2.228138851986274),
    (0.5, 7, 0.0),
    (0.975, 2.5, scipy.stats.t.ppf(0.975, 2.5)),
])
def test_t_quantile_known_values(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("p", "df"), [(0.0, 5), (1.0, 5), (0.5, 0), (-0.1, 3), (float("nan"), 3)])
def test_t_quantile_refuses_impossible_arguments(p, df):
    with pytest.raises(ValueError, match="expected 0 < p < 1 and df > 0"):
        t_quantile(p, df)


def test_regularized_beta_equals_scipy():
    grid = itertools.product([0.0, 1e-8, 0.05, 0.3, 0.5, 0.77, 0.999, 1.0], [0.5, 1, 2.5, 40, 100], [0.5, 1, 3, 60])
    for x, a, b in grid:
        assert regularized_beta(x, a, b) == pytest.approx(scipy.special.betainc(a, b, x), abs=1e-12), (x, a, b)


# --- the pre/post summary --------------------------------------------------------------------------

# learner  pre  post  gain  (post-pre)/(100-pre)
# a        40   70    30     0.5
# b        50   60    10     0.2
# c        60   100   40     1.0
# d        80   70    -10   -0.5
# e        30   -     (no post-test: counts in n and n_pre only)
# f        -    90    (no pre-test: counts in n, n_post and the pass share)
# paired means: pre 57.5, post 75, gain 17.5; deviations 12.5, -7.5, 22.5, -27.5 -> sd = sqrt(1475/3)
CLASS = scores(("a", 40, 70), ("b", 50, 60), ("c", 60, 100), ("d", 80, 70), ("e", 30, None), ("f", None, 90))


def test_summary_of_a_class_by_hand():
    s = prepost_summary(CLASS, pass_mark=70)
    sd = math.sqrt(1475 / 3)
    half = 3.182446305284263 * sd / 2  # t(0.975, df=3) from the printed tables
    assert (s.n, s.n_pre, s.n_post, s.n_paired) == (6, 5, 5, 4)
    assert (s.mean_pre, s.mean_post, s.mean_gain) == (57.5, 75.0, 17.5)
    assert s.sd_gain == pytest.approx(sd)
    assert s.gain_ci == pytest.approx((17.5 - half, 17.5 + half))
    assert s.normalized_gain == pytest.approx(0.3)
    assert s.n_normalized == 4
    assert s.hake_gain == pytest.approx(17.5 / 42.5)
    assert s.cohens_d == pytest.approx(17.5 / sd)
    assert (s.n_passed, s.share_passed) == (4, 0.8)  # 70, 100, 70, 90 pass; 60 does not


@pytest.mark.parametrize(("rows", "expected"), [
    pytest.param([], dict(n=0, n_paired=0, mean_pre=None, mean_gain=None, sd_gain=None, gain_ci=None,
                          normalized_gain=None, n_normalized=0, hake_gain=None, cohens_d=None, n_passed=0,
                          share_passed=None), id="empty"),
    pytest.param([("a", 50, 75)], dict(n=1, n_paired=1, mean_pre=50, mean_post=75, mean_gain=25, sd_gain=None,
                                       gain_ci=None, normalized_gain=0.5, hake_gain=0.5, cohens_d=None,
                                       share_passed=1.0), id="one learner"),
    pytest.param([("a", 100, 100), ("b", 100, 100), ("c", 100, 100)],
                 dict(mean_gain=0, sd_gain=0, gain_ci=(0, 0), normalized_gain=None, n_normalized=0, hake_gain=None,
                      cohens_d=None, share_passed=1.0), id="all correct"),
    pytest.param([("a", 0, 0), ("b", 0, 0), ("c", 0, 0)],
                 dict(mean_gain=0, sd_gain=0, gain_ci=(0, 0), normalized_gain=0, n_normalized=3, hake_gain=0,
                      cohens_d=None, share_passed=0.0), id="all wrong"),
    pytest.param([("a", 100, 80), ("b", 50, 100)],
                 dict(mean_pre=75, mean_post=90, normalized_gain=1.0, n_normalized=1, hake_gain=0.6),
                 id="pre = 100 has no normalized gain"),
    pytest.param([("a", 40, None), ("b", 60, None), ("c", None, None)],
                 dict(n=3, n_pre=2, n_post=0, n_paired=0, mean_pre=None, mean_gain=None, share_passed=None),
                 id="missing post-tests"),
    pytest.param([("a", 20, 60), ("b", 40, 60), ("c", 60, 60)],
                 dict(mean_gain=20, sd_gain=20, cohens_d=1.0, normalized_gain=(0.5 + 1 / 3 + 0) / 3, hake_gain=1 / 3),
                 id="gains 40, 20, 0"),
    pytest.param([("a", 50, 70 - 1e-12)], dict(n_passed=1), id="a rounding error below the pass mark passes"),
    pytest.param([("a", 50, 69.9)], dict(n_passed=0, share_passed=0.0), id="below the pass mark fails"),
])
def test_summary_edge_cases(rows, expected):
    s = prepost_summary(scores(*rows), pass_mark=70)
    for field, value in expected.items():
        assert getattr(s, field) == (value if value is None else pytest.approx(value)), field


@pytest.mark.parametrize(("rows", "message"), [
    (scores(("a", 10, 20)) + scores(("b", 10, 20), module="m2"), "scores: expected the rows of one module, got m1, m2"),
    (scores(("a", 10, 20), ("a", 30, 40)), "scores: learner a appears twice in module m1"),
    (scores(("a", 10, 101)), "scores: learner a has a post-test score of 101, outside 0-100"),
    (scores(("a", -1, 50)), "scores: learner a has a pre-test score of -1, outside 0-100"),
    (scores(("a", float("nan"), 50)), "scores: learner a has a pre-test score of nan, outside 0-100"),
])
def test_summary_refuses_bad_rows(rows, message):
    with pytest.raises(InputError) as caught:
        prepost_summary(rows, pass_mark=70)
    assert str(caught.value) == message


# --- disaggregation --------------------------------------------------------------------------------


def people(**groups):
    """Person rows, by sex, from sex=[learner ids]."""
    return [Person(learner, sex, "17", "commune", "clerk", "c1") for sex, ids in groups.items() for learner in ids]


# male (5): pre 40 50 60 70 80, post 60 80 70 90 100 -> means 60 and 80, gains 20 30 10 20 20
MALE = scores(("m1", 40, 60), ("m2", 50, 80), ("m3", 60, 70), ("m4", 70, 90), ("m5", 80, 100))
FEMALE = scores(("f1", 50, 50), ("f2", 50, 60), ("f3", 50, 70), ("f4", 50, 80))
OTHER = scores(("o1", 0, 100), ("o2", 10, 90), ("o3", 20, 80))
SEXES = people(male=["m1", "m2", "m3", "m4", "m5"], female=["f1", "f2", "f3", "f4"], other=["o1", "o2", "o3"])


def shown(rows):
    return [(r.group, r.total, r.suppressed, r.n) for r in rows]


def test_groups_of_4_are_suppressed_and_5_shown():
    rows = disaggregate(MALE + FEMALE + OTHER, SEXES, "sex", pass_mark=70)
    assert shown(rows) == [("female", False, True, None), ("male", False, False, 5), ("other", False, True, None),
                           (None, True, False, 12)]
    assert rows[0].summary is None and rows[2].summary is None
    male = rows[1].summary
    assert (male.mean_pre, male.mean_post, male.mean_gain, male.n_passed) == (60, 80, 20, 4)
    assert rows[3].summary == prepost_summary(MALE + FEMALE + OTHER, pass_mark=70)


def test_a_lone_small_group_hides_the_smallest_other_so_the_total_cannot_reveal_it():
    # total - male would give the four women's figures: male is hidden too.
    rows = disaggregate(MALE + FEMALE, SEXES, "sex", pass_mark=70)
    assert shown(rows) == [("female", False, True, None), ("male", False, True, None), (None, True, False, 9)]


def test_secondary_suppression_takes_the_smallest_shown_group_first():
    bigger = scores(*[(f"x{i}", 50, 60) for i in range(6)])
    rows = disaggregate(MALE + FEMALE + bigger, SEXES + people(another=[f"x{i}" for i in range(6)]), "sex", 70)
    assert shown(rows) == [("another", False, False, 6), ("female", False, True, None), ("male", False, True, None),
                           (None, True, False, 15)]


def test_a_group_is_suppressed_when_its_means_rest_on_fewer_than_5():
    # province 17: six learners but only two took both tests; 12: three, so suppressed, and the two
    # together rest on five; 07: five who took nothing yet, so nothing to hide.
    rows17 = scores(("a", 40, 60), ("b", 50, 70), ("c", 50, None), ("d", 50, None), ("e", None, None), ("f", 60, None))
    rows12 = scores(("g", 10, 20), ("h", 30, 40), ("i", 50, 60))
    rows07 = scores(*[(f"k{i}", None, None) for i in range(5)])
    places = [Person(r.learner_id, "female", province, "ngo", "", "c1")
              for province, rows in (("17", rows17), ("12", rows12), ("07", rows07)) for r in rows]
    result = disaggregate(rows17 + rows12 + rows07 + scores(*[(f"z{i}", 50, 50) for i in range(5)]), places,
                          "province_code", 70)
    # the five z learners have no Person row: "not recorded", last before the total
    assert shown(result) == [("07", False, False, 5), ("12", False, True, None), ("17", False, True, None),
                             (None, False, False, 5), (None, True, False, 19)]
    assert result[0].summary.mean_pre is None and result[0].summary.n_paired == 0


def test_secondary_suppression_goes_on_until_the_hidden_rows_together_are_safe():
    # 17 alone rests on two paired learners; hiding 07 (five who took nothing) does not cover it, so the
    # not-recorded group goes too.
    rows17 = scores(("a", 40, 60), ("b", 50, 70), ("c", 50, None), ("d", 50, None), ("e", None, None), ("f", 60, None))
    rows07 = scores(*[(f"k{i}", None, None) for i in range(5)])
    places = [Person(r.learner_id, "male", province, "ngo", "", "c1")
              for province, rows in (("17", rows17), ("07", rows07)) for r in rows]
    result = disaggregate(rows17 + rows07 + scores(*[(f"z{i}", 50, 50) for i in range(5)]), places, "province_code", 70)
    assert shown(result) == [("07", False, True, None), ("17", False, True, None), (None, False, True, None),
                             (None, True, False, 16)]


def test_an_empty_value_counts_as_not_recorded():
    rows = scores(*[(f"p{i}", 50, 80) for i in range(5)])
    result = disaggregate(rows, [Person(r.learner_id, "male", "17", "ngo", "", "c1") for r in rows], "position", 70)
    assert shown(result) == [(None, False, False, 5), (None, True, False, 5)]


def test_a_total_under_5_is_suppressed_and_no_rows_gives_only_a_suppressed_total():
    assert shown(disaggregate(FEMALE, SEXES, "sex", 70)) == [("female", False, True, None), (None, True, True, None)]
    assert shown(disaggregate([], [], "cohort_id", 70)) == [(None, True, True, None)]


def test_the_minimum_group_size_can_be_chosen():
    rows = disaggregate(MALE + FEMALE + OTHER, SEXES, "sex", 70, minimum=3)
    assert [r.suppressed for r in rows] == [False, False, False, False]


def test_disaggregate_refuses_an_unknown_key_and_a_person_twice():
    with pytest.raises(InputError, match="^key: expected one of sex, province_code, org_type, position, cohort_id, got 'age'$"):
        disaggregate(MALE, SEXES, "age", 70)
    with pytest.raises(InputError, match="^people: learner m1 appears twice$"):
        disaggregate(MALE, SEXES + people(male=["m1"]), "sex", 70)


# --- completion and the funnel ---------------------------------------------------------------------

# 2026-01-01 is a Thursday, so ISO week 2026-W02 runs Monday 5 to Sunday 11 January.
PROGRESS = [
    ModuleProgress("a", "m1", True, True, True, date(2026, 1, 5)),
    ModuleProgress("b", "m1", True, True, True, date(2026, 1, 11)),
    ModuleProgress("c", "m1", True, False, False, date(2026, 1, 20)),
    ModuleProgress("d", "m1"),
    ModuleProgress("e", "m1", passed_post_test=True, completed_at=datetime(2026, 1, 21, 9, 30)),
    ModuleProgress("a", "m2", took_pre_test=True),
    ModuleProgress("b", "m2"),
]


def weeks(module):
    return [(w.week, w.starts, w.completed, w.cumulative) for w in module.weeks]


def test_completion_by_iso_week_by_hand():
    m1, m2 = completion_by_week(PROGRESS)
    assert (m1.module_id, m1.enrolled, m1.completed) == ("m1", 5, 4)
    assert weeks(m1) == [("2026-W02", date(2026, 1, 5), 2, 2), ("2026-W03", date(2026, 1, 12), 0, 2),
                         ("2026-W04", date(2026, 1, 19), 2, 4)]
    assert (m2.module_id, m2.enrolled, m2.completed, m2.weeks) == ("m2", 2, 0, ())


def test_completion_runs_on_to_a_later_date_and_across_a_53_week_year():
    m1 = completion_by_week(PROGRESS, through=date(2026, 2, 3))[0]
    assert [w.week for w in m1.weeks] == ["2026-W02", "2026-W03", "2026-W04", "2026-W05", "2026-W06"]
    assert m1.weeks[-1].cumulative == 4
    assert completion_by_week(PROGRESS, through=date(2025, 1, 1))[0].weeks == m1.weeks[:3]
    new_year = [ModuleProgress("a", "m", completed_at=date(2020, 12, 31)),
                ModuleProgress("b", "m", completed_at=date(2021, 1, 3)),
                ModuleProgress("c", "m", completed_at=date(2021, 1, 4))]
    assert weeks(completion_by_week(new_year)[0]) == [("2020-W53", date(2020, 12, 28), 2, 2),
                                                     ("2021-W01", date(2021, 1, 4), 1, 3)]


def test_funnel_counts_each_stage_on_its_own():
    assert [tuple(vars(f).values()) for f in funnel(PROGRESS)] == [("m1", 5, 3, 2, 3), ("m2", 2, 1, 0, 0)]


def test_progress_refuses_a_learner_twice_and_empty_input_gives_nothing():
    with pytest.raises(InputError, match="^progress: learner a appears twice in module m1$"):
        funnel(PROGRESS + [ModuleProgress("a", "m1")])
    with pytest.raises(InputError, match="^progress: learner a appears twice in module m1$"):
        completion_by_week(PROGRESS + [ModuleProgress("a", "m1")])
    assert funnel([]) == () and completion_by_week([]) == ()


# --- item analysis, by hand ------------------------------------------------------------------------

# learner  i1 (key a)  i2 (key b)  i3 (key a+c)   total
# a        a   1       b   1       a,c  1          3
# b        a   1       b   1       a    0          2
# c        a   1       c   0       -    0          1
# d        b   0       -   0       a,c  1          1
# totals 3 2 1 1: mean 1.75, sample variance 11/12; item variances 1/4, 1/3, 1/3 sum to 11/12, so alpha = 0.
# rest scores: i1 2 1 0 1 -> r = 0; i2 2 1 1 1 -> r = 1/sqrt(3); i3 2 2 1 0 -> r = -0.5/sqrt(2.75).
# 27% of 4 rounds to 1: upper = a; lower = c and d tied, half each.
HAND = [
    ItemResponse("a", "i1", ("a",), True), ItemResponse("a", "i2", ("b",), True), ItemResponse("a", "i3", ("a", "c"), True),
    ItemResponse("b", "i1", ("a",), True), ItemResponse("b", "i2", ("b",), True), ItemResponse("b", "i3", ("a",), False),
    ItemResponse("c", "i1", ("a",), True), ItemResponse("c", "i2", ("c",), False), ItemResponse("c", "i3", (), False),
    ItemResponse("d", "i1", ("b",), False), ItemResponse("d", "i2", (), False), ItemResponse("d", "i3", ("a", "c"), True),
]
OPTIONS = {"i1": ("a", "b", "c"), "i2": ("a", "b", "c"), "i3": ("a", "b", "c", "d")}


def test_item_analysis_by_hand():
    result = item_analysis(HAND, options=OPTIONS)
    o = result.overall
    assert (o.n, o.n_items, o.excluded, o.mean, o.flags) == (4, 3, 0, 1.75, ())
    assert o.sd == pytest.approx(math.sqrt(11 / 12))
    assert o.alpha == pytest.approx(0.0, abs=1e-12)
    assert o.sem == pytest.approx(math.sqrt(11 / 12))
    table = [(i.item_id, i.facility, i.discrimination, i.share_unanswered, i.flags) for i in result.items]
    assert table == [("i1", 0.75, 0.5, 0.0, ()), ("i2", 0.5, 1.0, 0.25, ()), ("i3", 0.5, 0.5, 0.25, ())]
    assert [i.item_rest for i in result.items] == pytest.approx([0.0, 1 / math.sqrt(3), -0.5 / math.sqrt(2.75)])
    assert [i.sd for i in result.items] == pytest.approx([0.5, math.sqrt(1 / 3), math.sqrt(1 / 3)])
    assert [i.option_shares for i in result.items] == [{"a": 0.75, "b": 0.25, "c": 0.0},
                                                      {"a": 0.0, "b": 0.5, "c": 0.25},
                                                      {"a": 0.75, "b": 0.0, "c": 0.5, "d": 0.0}]


def matrix_responses(matrix, items=None):
    """ItemResponse rows for a 0/1 matrix: learner l00, l01, ...; right ticks "a", wrong ticks "b"."""
    items = items or [f"i{j + 1}" for j in range(len(matrix[0]))]
    return [ItemResponse(f"l{n:02d}", item, ("a",) if x else ("b",), bool(x))
            for n, row in enumerate(matrix) for item, x in zip(items, row, strict=True)]


# Guttman patterns, each twice: facilities .8 .6 .4 .2; item variances (10/9)(.16 .24 .24 .16) sum to 8/9;
# totals 0..4 twice have variance 20/9, so alpha = 4/3 (1 - 0.4) = 0.8 and sem = sqrt(20/9) sqrt(0.2) = 2/3.
# 27% of 10 rounds to 3: upper = the two 4s and half of each 3; lower = the two 0s and half of each 1.
GUTTMAN = [[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]] * 2


def test_reliability_and_discrimination_of_a_guttman_scale_by_hand():
    result = item_analysis(matrix_responses(GUTTMAN))
    assert result.overall.alpha == pytest.approx(0.8)
    assert result.overall.sem == pytest.approx(2 / 3)
    assert result.overall.flags == ()
    assert [i.facility for i in result.items] == pytest.approx([0.8, 0.6, 0.4, 0.2])
    assert [i.discrimination for i in result.items] == pytest.approx([2 / 3, 1, 1, 2 / 3])
    assert [i.flags for i in result.items] == [(), (), (), ()]  # 0.2 is not below 0.2


def test_discrimination_is_the_average_over_every_way_of_breaking_ties():
    totals = [3, 2, 2, 2, 1, 0]
    item = [1, 1, 0, 0, 1, 0]
    size = math.floor(UPPER_LOWER_SHARE * 6 + 0.5)
    values = []
    for tie_break in itertools.permutations(range(6)):
        ranked = sorted(range(6), key=lambda j: (totals[j], tie_break[j]))
        values.append(sum(item[j] for j in ranked[-size:]) / size - sum(item[j] for j in ranked[:size]) / size)
    assert discrimination_index(item, totals) == pytest.approx(sum(values) / len(values))
    assert discrimination_index(item, totals) == pytest.approx((1 + 1 / 3) / 2 - (0 + 1) / 2)
    assert discrimination_index([1, 0, 1], [2, 2, 2]) == 0.0  # everyone tied: both groups are everyone
    assert discrimination_index([1], [1]) is None


@pytest.mark.parametrize(("matrix", "expected"), [
    pytest.param([], dict(n=0, mean=None, sd=None, alpha=None, sem=None), id="no attempts"),
    pytest.param([[1, 0, 1]], dict(n=1, mean=2, sd=None, alpha=None, sem=None), id="one learner"),
    pytest.param([[1, 1, 1]] * 10, dict(n=10, mean=3, sd=0, alpha=None, sem=None, flags=()), id="all correct"),
    pytest.param([[0, 0, 0]] * 10, dict(n=10, mean=0, sd=0, alpha=None, sem=None, flags=()), id="all wrong"),
    pytest.param([[1], [0], [1]], dict(n=3, n_items=1, alpha=None, sem=None), id="one item"),
])
def test_overall_edge_cases(matrix, expected):
    overall = item_analysis(matrix_responses(matrix) if matrix else []).overall
    for field, value in expected.items():
        assert getattr(overall, field) == value, field


def test_item_edge_cases_one_learner_all_correct_all_wrong():
    (one,) = item_analysis(matrix_responses([[1]])).items
    assert (one.n, one.facility, one.sd, one.discrimination, one.item_rest) == (1, 1.0, None, None, None)
    right = item_analysis(matrix_responses([[1, 1]] * 10)).items[0]
    assert (right.facility, right.item_rest, right.discrimination, right.flags) == (1.0, None, 0.0, ("too_easy",))
    wrong = item_analysis(matrix_responses([[0, 1]] * 25), options={"i1": ("a", "b", "c")}).items[0]
    # Nobody chose "a" or "c", but nobody was right, so either may be the key: no distractor flag.
    assert (wrong.facility, wrong.item_rest, wrong.flags) == (0.0, None, ("too_hard",))
    empty = item_analysis([], item_ids=["i1"]).items[0]
    assert (empty.n, empty.facility, empty.sd, empty.option_shares, empty.share_unanswered, empty.flags) == (
        0, None, None, {}, None, ())


@pytest.mark.parametrize(("right", "of", "flags"), [
    (10, 10, ("too_easy",)), (19, 20, ("too_easy",)), (9, 10, ()),
    (1, 10, ("too_hard",)), (2, 10, ()), (0, 10, ("too_hard",)),
])
def test_facility_flags_and_their_thresholds(right, of, flags):
    # one other item, perfectly in step with this one, so only facility can flag
    matrix = [[1, 1]] * right + [[0, 0]] * (of - right)
    assert item_analysis(matrix_responses(matrix)).items[0].flags == flags


# Strong learners (right on i2 and i3) get i1 wrong: it does not separate them from weaker ones.
REVERSED = [[0, 1, 1]] * 4 + [[1, 1, 0], [1, 0, 1], [1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0]]


def test_low_discrimination_and_low_reliability_from_10_attempts():
    result = item_analysis(matrix_responses(REVERSED))
    assert result.items[0].item_rest < 0 and result.items[0].flags == ("low_discrimination",)
    assert result.overall.alpha < 0.7 and result.overall.flags == ("low_reliability",)
    fewer = item_analysis(matrix_responses(REVERSED[:9]))
    assert fewer.items[0].flags == () and fewer.overall.flags == ()


@pytest.mark.parametrize(("attempts", "flagged"), [(20, True), (19, False)])
def test_an_option_nobody_chose_is_flagged_from_20_attempts(attempts, flagged):
    matrix = [[1, 1], [0, 0]] * (attempts // 2) + [[1, 1]] * (attempts % 2)
    result = item_analysis(matrix_responses(matrix), options={"i1": ("a", "b", "c"), "i2": ("a", "b")})
    assert ("unused_distractor" in result.items[0].flags) is flagged
    assert result.items[0].option_shares["c"] == 0.0
    assert "unused_distractor" not in result.items[1].flags


def test_items_follow_the_given_list_and_incomplete_attempts_are_left_out():
    rows = HAND + [ItemResponse("e", "i1", ("a",), True), ItemResponse("a", "r1", (), None),
                   ItemResponse("a", "i9", ("a",), True)]
    result = item_analysis(rows, item_ids=["i3", "i1", "i2"])
    assert [i.item_id for i in result.items] == ["i3", "i1", "i2"]
    assert (result.overall.n, result.overall.excluded, result.overall.mean) == (4, 1, 1.75)
    assert [i.option_shares for i in result.items][1] == {"a": 0.75, "b": 0.25}  # no option list: only chosen ones


def test_item_analysis_refuses_an_item_answered_twice():
    with pytest.raises(InputError, match="^responses: learner a has item i1 twice; pass first attempts only$"):
        item_analysis(HAND + [ItemResponse("a", "i1", ("b",), False)])


# --- item facility, pre-test beside post-test ------------------------------------------------------

PRE = [ItemResponse("a", "i1", ("b",), False), ItemResponse("a", "i2", ("a",), True),
       ItemResponse("b", "i1", ("b",), False), ItemResponse("b", "i2", ("b",), False),
       ItemResponse("c", "i1", ("a",), True)]
POST = [ItemResponse("a", "i1", ("a",), True), ItemResponse("a", "i2", ("a",), True), ItemResponse("a", "i3", ("a",), True),
        ItemResponse("b", "i1", ("a",), True), ItemResponse("b", "i2", ("b",), False), ItemResponse("b", "i3", ("b",), False),
        ItemResponse("d", "i1", ("a",), True)]


def side_by_side(rows):
    return [(r.item_id, r.n_pre, r.facility_pre, r.n_post, r.facility_post, r.change) for r in rows]


def test_item_facility_pre_and_post_by_hand():
    rows = side_by_side(item_facility_pre_post(PRE, POST))
    assert rows[0] == ("i1", 3, pytest.approx(1 / 3), 3, 1.0, pytest.approx(2 / 3))
    assert rows[1:] == [("i2", 2, 0.5, 2, 0.5, 0.0), ("i3", 0, None, 2, 0.5, None)]


def test_item_facility_pre_and_post_on_the_same_learners():
    assert side_by_side(item_facility_pre_post(PRE, POST, item_ids=["i2", "i1", "i3"], paired_only=True)) == [
        ("i2", 2, 0.5, 2, 0.5, 0.0), ("i1", 2, 0.0, 2, 1.0, 1.0), ("i3", 0, None, 0, None, None)]
    assert item_facility_pre_post([], []) == ()


# --- the LSAT data, checked with NumPy and SciPy ---------------------------------------------------

# Law School Admission Test, section 6 (Bock & Lieberman 1970; R's ltm::LSAT): 1000 examinees, 5 items.
LSAT_PATTERNS = {
    "00000": 3, "00001": 6, "00010": 2, "00011": 11, "00100": 1, "00101": 1, "00110": 3, "00111": 4,
    "01000": 1, "01001": 8, "01010": 0, "01011": 16, "01100": 0, "01101": 3, "01110": 2, "01111": 15,
    "10000": 10, "10001": 29, "10010": 14, "10011": 81, "10100": 3, "10101": 28, "10110": 15, "10111": 80,
    "11000": 16, "11001": 56, "11010": 21, "11011": 173, "11100": 11, "11101": 61, "11110": 28, "11111": 298,
}


@pytest.fixture(scope="module")
def lsat():
    assert sum(LSAT_PATTERNS.values()) == 1000
    x = np.array([[int(c) for c in pattern] for pattern, count in LSAT_PATTERNS.items() for _ in range(count)])
    return x, item_analysis(matrix_responses(x.tolist()))


def test_lsat_facilities_are_the_published_ones(lsat):
    x, _ = lsat
    assert x.mean(axis=0).round(3).tolist() == [0.924, 0.709, 0.553, 0.763, 0.870]
    assert round(lsat[1].overall.alpha, 3) == 0.295  # ltm's descript(LSAT): Cronbach's alpha, all items, 0.2950


def test_lsat_item_statistics_equal_numpy_and_scipy(lsat):
    x, result = lsat
    total = x.sum(axis=1)
    for j, item in enumerate(result.items):
        rest = total - x[:, j]
        assert item.n == 1000
        assert item.facility == pytest.approx(x[:, j].mean(), abs=1e-9)
        assert item.sd == pytest.approx(x[:, j].std(ddof=1), abs=1e-9)
        assert item.item_rest == pytest.approx(np.corrcoef(x[:, j], rest)[0, 1], abs=1e-9)
        assert item.item_rest == pytest.approx(scipy.stats.pointbiserialr(x[:, j], rest).statistic, abs=1e-9)


def test_lsat_test_statistics_equal_numpy(lsat):
    x, result = lsat
    k = x.shape[1]
    covariance = np.cov(x, rowvar=False)  # alpha from the covariance matrix, a formula apart from KR-20's
    alpha = k / (k - 1) * (1 - np.trace(covariance) / covariance.sum())
    p = x.mean(axis=0)
    kr20 = k / (k - 1) * (1 - (p * (1 - p)).sum() / x.sum(axis=1).var(ddof=0))
    sd = x.sum(axis=1).std(ddof=1)
    o = result.overall
    assert (o.n, o.n_items, o.excluded) == (1000, 5, 0)
    assert o.mean == pytest.approx(x.sum(axis=1).mean(), abs=1e-9)
    assert o.sd == pytest.approx(sd, abs=1e-9)
    assert o.alpha == pytest.approx(alpha, abs=1e-9)
    assert o.alpha == pytest.approx(kr20, abs=1e-9)
    assert o.sem == pytest.approx(sd * np.sqrt(1 - alpha), abs=1e-9)
    assert o.flags == ("low_reliability",)  # five items that hang together weakly


def test_lsat_discrimination_equals_an_independent_numpy_computation(lsat):
    x, result = lsat
    total = x.sum(axis=1)
    size = int(np.floor(UPPER_LOWER_SHARE * len(total) + 0.5))

    def membership(score):
        # each examinee's share of a place in the group: all of it above the cut, the rest split at it
        above = np.array([(score > s).sum() for s in score])
        tied = np.array([(score == s).sum() for s in score])
        return np.clip((size - above) / tied, 0, 1)

    upper, lower = membership(total), membership(-total)
    for j, item in enumerate(result.items):
        expected = (upper * x[:, j]).sum() / size - (lower * x[:, j]).sum() / size
        assert item.discrimination == pytest.approx(expected, abs=1e-9)


def test_overall_scores_pair_modules_per_learner():
    from engine.analytics import LearnerScore, overall_scores

    by_module = {
        "m1": [LearnerScore("a", "m1", 40.0, 80.0), LearnerScore("b", "m1", 50.0, None)],
        "m2": [LearnerScore("a", "m2", 60.0, 100.0), LearnerScore("c", "m2", None, 70.0)],
    }
    assert overall_scores(by_module) == [
        LearnerScore("a", "all", 50.0, 90.0),   # paired on both modules: means of each side
        LearnerScore("b", "all", 50.0, None),   # pre only
        LearnerScore("c", "all", None, 70.0),   # post only
    ]
    assert overall_scores({}) == []

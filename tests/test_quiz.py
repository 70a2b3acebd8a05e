import pytest

from engine.content.model import Item, Option
from engine.errors import InputError
from engine.quiz import decode_answer, encode_answer, grade, score, shuffled

OPTS = tuple(Option(o, o.upper(), "") for o in "abcd")
SINGLE = Item("s", "single", "?", OPTS, frozenset({"c"}))
MULTI = Item("m", "multiple", "?", OPTS, frozenset({"a", "c"}))
TF = Item("tf", "true_false", "?", (Option("true", "", ""), Option("false", "", "")), frozenset({"false"}))
TEXT = Item("x", "short_text", "?", (), frozenset())


@pytest.mark.parametrize("item,answer,correct,points", [
    (SINGLE, "c", True, 1.0),
    (SINGLE, "a", False, 0.0),
    (SINGLE, None, False, 0.0),
    (MULTI, ["c", "a"], True, 1.0),
    (MULTI, ["a"], False, 0.0),          # partly right is wrong: no part marks
    (MULTI, ["a", "b", "c", "d"], False, 0.0),  # ticking everything must not score
    (TF, "false", True, 1.0),
    (TF, False, True, 1.0),
    (TF, True, False, 0.0),
    (TEXT, "my plan", None, 0.0),
])
def test_grade(item, answer, correct, points):
    result = grade(item, answer)
    assert (result.correct, result.points) == (correct, points)


@pytest.mark.parametrize("item,answer,message", [
    (SINGLE, "e", "item s: 'e' is not one of its options (a, b, c, d)"),
    (SINGLE, ["a", "b"], "item s: expected one option, got 2"),
    (SINGLE, 3, "item s: expected an option id, got int"),
    (TEXT, ["a"], "item x: expected text, got list"),
])
def test_bad_answers_are_named(item, answer, message):
    with pytest.raises(InputError) as err:
        grade(item, answer)
    assert str(err.value) == message


def test_score_counts_missing_answers_and_skips_text():
    result = score([SINGLE, MULTI, TF, TEXT], {"s": "c", "tf": "true", "x": "notes"})
    assert (result.points, result.max_points) == (1.0, 3.0)
    assert round(result.percent, 2) == 33.33
    assert not result.passed(70) and result.passed(33)


def test_score_of_nothing_gradable_never_passes():
    assert not score([TEXT], {}).passed(0)


def test_shuffle_is_stable_per_attempt_and_varies_between_attempts():
    first = [o.id for o in shuffled(SINGLE, "attempt-1")]
    assert first == [o.id for o in shuffled(SINGLE, "attempt-1")]
    orders = {tuple(o.id for o in shuffled(SINGLE, f"attempt-{n}")) for n in range(20)}
    assert len(orders) > 1
    assert [o.id for o in shuffled(TF, "anything")] == ["true", "false"]


@pytest.mark.parametrize("answer", ["c", ["a", "c"], "សរសេរផែនការ", None])
def test_answers_round_trip_through_storage(answer):
    assert decode_answer(encode_answer(answer)) == answer

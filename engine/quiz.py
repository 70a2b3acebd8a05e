"""Grading and scoring. Pure: items and answers in, results out.

Every graded item is worth one point. A multiple-choice item scores only when the chosen set equals
the key exactly (no part marks: a learner who ticks every box must not score). Short text is saved,
never graded.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.content.model import Item, Option
from engine.errors import InputError

Answer = str | list[str] | None


@dataclass(frozen=True)
class ItemResult:
    item_id: str
    answer: Answer
    correct: bool | None
    """None for short text, which is not graded."""
    points: float


@dataclass(frozen=True)
class Score:
    results: tuple[ItemResult, ...]
    points: float
    max_points: float

    @property
    def percent(self) -> float:
        return 100.0 * self.points / self.max_points if self.max_points else 0.0

    def passed(self, pass_mark: int) -> bool:
        return self.max_points > 0 and self.percent + 1e-9 >= pass_mark


def normalize(item: Item, raw: object) -> Answer:
    """The canonical form of a learner's answer, or InputError naming the item."""
    if raw is None or raw == [] or raw == "":
        return None
    if item.type == "short_text":
        if not isinstance(raw, str):
            raise InputError(f"item {item.id}: expected text, got {type(raw).__name__}")
        return raw
    if item.type == "true_false" and isinstance(raw, bool):
        raw = "true" if raw else "false"
    chosen = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, (list, tuple, set)) else None
    if chosen is None:
        raise InputError(f"item {item.id}: expected an option id, got {type(raw).__name__}")
    known = {o.id for o in item.options}
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise InputError(f"item {item.id}: {unknown[0]!r} is not one of its options ({', '.join(sorted(known))})")
    if item.type == "multiple":
        return sorted(set(chosen))
    if len(chosen) != 1:
        raise InputError(f"item {item.id}: expected one option, got {len(chosen)}")
    return chosen[0]


def grade(item: Item, raw: object) -> ItemResult:
    answer = normalize(item, raw)
    if not item.graded:
        return ItemResult(item.id, answer, None, 0.0)
    chosen = set() if answer is None else {answer} if isinstance(answer, str) else set(answer)
    correct = chosen == set(item.key)
    return ItemResult(item.id, answer, correct, 1.0 if correct else 0.0)


def score(items: Iterable[Item], answers: Mapping[str, object]) -> Score:
    """Grade every item; a missing answer is wrong (it still counts toward the maximum)."""
    results = tuple(grade(item, answers.get(item.id)) for item in items)
    graded = [r for r in results if r.correct is not None]
    return Score(results, sum(r.points for r in graded), float(len(graded)))


def shuffled(item: Item, seed: str) -> tuple[Option, ...]:
    """The item's options in an order fixed by `seed` (the attempt id): stable across reruns of one
    attempt, different between attempts. True/false keeps its natural order."""
    if item.type == "true_false":
        return item.options
    options = list(item.options)
    random.Random(f"{seed}:{item.id}").shuffle(options)
    return tuple(options)


def encode_answer(answer: Answer) -> str:
    """How an answer is stored in the responses table."""
    return json.dumps(answer, ensure_ascii=False)


def decode_answer(text: str) -> Answer:
    return json.loads(text)

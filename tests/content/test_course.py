"""The course itself cannot silently shrink: the minimums of issue 3, for every module and both languages."""

import re
import unicodedata
from pathlib import Path

import pytest

from engine.content import load, validate

pytestmark = pytest.mark.content
ROOT = Path(__file__).resolve().parents[2]
COURSES = load(ROOT)
EN, KM = COURSES["en"], COURSES["km"]
MODULE_IDS = [m.id for m in EN.modules]
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z ,'’-]{25,}")  # a run of English words long enough to be a sentence
BRACKETED = re.compile(r"\([^)]*\)|`[^`]*`|\[[^\]]*\]\([^)]*\)")


def english_words(markdown: str) -> int:
    return len(WORD.findall(markdown))


def test_the_whole_course_validates_strictly():
    assert [str(p) for p in validate(ROOT)] == []


def test_six_modules_in_order():
    assert MODULE_IDS == ["01-engagement", "02-data", "03-systems", "04-problem-solving", "05-storytelling",
                          "06-creative-culture"]


@pytest.mark.parametrize("module_id", MODULE_IDS)
def test_module_minimums(module_id):
    for course in (EN, KM):
        module = course.module(module_id)
        assert 3 <= len(module.objectives) <= 5
        assert len(module.sections) >= 5
        for section in module.sections:
            assert len(section.checks) >= 2, section.id
            assert section.notes.strip(), section.id
            for item in section.checks:
                assert all(o.feedback.strip() for o in item.options), item.id
        assert len(module.pre_test) >= 10 and module.pre_test == module.post_test
        assert module.exercise.body.strip() and module.exercise.notes.strip() and module.exercise.items
        for item in module.pre_test:
            assert item.type in ("single", "multiple", "true_false") and len(item.options) >= 2, item.id
            assert all(o.feedback.strip() for o in item.options), item.id


@pytest.mark.parametrize("module_id", MODULE_IDS)
def test_english_sections_are_400_to_900_words_with_a_desk_task(module_id):
    for section in EN.module(module_id).sections:
        words = english_words(section.body)
        assert 400 <= words <= 900, f"{section.id}: {words} words"
        assert "## Try it at your desk" in section.body, section.id


@pytest.mark.parametrize("module_id", MODULE_IDS)
def test_khmer_is_khmer(module_id):
    module = KM.module(module_id)
    texts = [module.overview, module.exercise.body, module.exercise.notes]
    for section in module.sections:
        texts += [section.title, section.body, section.notes]
    for item in module.items.values():
        texts += [item.stem, item.guidance] + [o.text for o in item.options] + [o.feedback for o in item.options]
    for text in texts:
        assert unicodedata.is_normalized("NFC", text)
        stripped = BRACKETED.sub("", text)
        assert not LATIN_RUN.search(stripped), f"English left in the Khmer text: {LATIN_RUN.search(stripped)[0]!r}"
    for section in module.sections:
        assert "## សាកល្បងនៅតុការងាររបស់អ្នក" in section.body, section.id


@pytest.mark.parametrize("module_id", MODULE_IDS)
def test_answers_are_spread_over_the_options(module_id):
    keys = [next(iter(i.key)) for i in EN.module(module_id).pre_test if i.type == "single"]
    most = max(keys.count(k) for k in set(keys))
    assert most <= len(keys) / 2, f"{most} of {len(keys)} test items have the same answer"


def test_every_module_has_a_glossary_of_its_terms():
    terms = {}
    for term in EN.glossary:
        if term.module_id:
            terms.setdefault(term.module_id, []).append(term)
    for module_id in MODULE_IDS:
        assert len(terms.get(module_id, [])) >= 8, module_id

import dataclasses
from pathlib import Path

import pytest

from engine.content import ContentInvalid, load, read_tree
from engine.content.loader import content_version

pytestmark = pytest.mark.content


def test_loads_sample_in_both_languages(sample):
    courses = load(sample)
    assert set(courses) == {"km", "en"}
    en, km = courses["en"], courses["km"]
    assert en.title == "Sample course" and km.title == "វគ្គគំរូ"
    module = en.module("01-engagement")
    assert [s.id for s in module.sections] == ["why-engage", "stakeholder-map"]
    assert [i.id for i in module.sections[0].checks] == ["why-engage-1", "why-engage-2"]
    assert [i.id for i in module.pre_test] == [i.id for i in module.post_test] == ["t01", "t02", "t03"]
    assert module.items["t03"].key == frozenset({"a", "b"})
    assert module.items["why-engage-2"].key == frozenset({"false"})
    assert module.pass_mark == 70 and module.minutes == 20 + 25 + 60
    assert module.objectives[0][0] == "o1"
    assert module.exercise.items[0].type == "short_text" and module.exercise.items[0].guidance
    assert "flip chart" in module.sections[1].notes
    # Same ids and keys in both languages; only the words differ.
    km_module = km.module("01-engagement")
    assert km_module.items["t01"].key == module.items["t01"].key
    assert km_module.items["t01"].stem != module.items["t01"].stem
    assert en.version == km.version


def test_course_objects_are_immutable(sample):
    module = load(sample)["en"].modules[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        module.title = "changed"
    with pytest.raises(TypeError):
        module.items["new"] = module.items["t01"]


def test_version_follows_the_files(sample):
    before = content_version(read_tree(sample))
    assert before == content_version(read_tree(sample))
    notes = sample / "content/en/01-engagement/notes/dialogue.md"
    notes.write_text(notes.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    assert content_version(read_tree(sample)) != before


def test_invalid_content_is_not_served(sample):
    (sample / "content/km/01-engagement/sections/why-engage.md").unlink()
    with pytest.raises(ContentInvalid) as err:
        load(sample)
    assert [p.rule for p in err.value.problems] == ["missing-file"]


def test_the_repository_course_loads_in_both_languages():
    root = Path(__file__).resolve().parents[2]
    courses = load(root)
    assert len(courses["km"].modules) == len(courses["en"].modules) == 6

"""The trainer's pages on the demo population: a trainer sees their own cohorts only, an administrator
all; the figures on the page are the analytics of that cohort's rows."""

import pytest
from sqlalchemy import select

from engine import trainer
from engine.analytics import prepost_summary
from engine.app.i18n import t
from engine.content import load
from engine.errors import NotAllowed
from engine.store.db import make_engine, session_factory
from engine.store.models import Cohort, User
from tests.app.conftest import SAMPLE

pytestmark = pytest.mark.trainer
COURSE = load(SAMPLE)["en"]


@pytest.fixture
def factory(demo_env):
    return session_factory(make_engine(demo_env["SALA_DATABASE_URL"]))


def user(factory, username):
    with factory() as s:
        found = s.scalar(select(User).where(User.username == username))
        s.expunge(found)
        return found


@pytest.mark.parametrize("username,expected", [
    ("demo.trainer", {"Siem Reap 2026", "Ratanakiri 2026", "All my cohorts"}),
    ("demo.facilitator", {"Kampot 2026", "Kampong Cham 2026", "All my cohorts"}),
])
def test_cohort_page_offers_only_the_trainers_cohorts(app, username, expected):
    at = app(username, "en")
    at.run()
    at.switch_page("screens/cohort.py").run()
    assert not at.exception
    assert set(at.selectbox(key="cohort_id").options) == expected  # the options as shown: cohort names


def test_administrator_sees_every_cohort_and_the_cascade(app):
    at = app("demo.admin", "en")
    at.run()
    at.switch_page("screens/cohort.py").run()
    assert len(at.selectbox(key="cohort_id").options) == 5 + 1  # and "All my cohorts"
    at.switch_page("screens/cascade.py").run()
    assert not at.exception
    spec = at.get("plotly_chart")[0].proto.spec
    assert "sunburst" in spec and "Siem Reap 2026" in spec


def test_a_trainer_cannot_read_another_trainers_cohort(factory):
    me = user(factory, "demo.trainer")
    with factory() as s:
        kampot = s.scalar(select(Cohort.id).where(Cohort.name == "Kampot 2026"))
        with pytest.raises(NotAllowed):
            trainer.check_cohorts(s, user=me, cohort_ids=[kampot])
    learner = user(factory, "demo.learner")
    with factory() as s, pytest.raises(NotAllowed):
        trainer.visible_cohorts(s, user=learner)


def test_prepost_table_shows_the_cohorts_analytics(app, factory):
    me = user(factory, "demo.trainer")
    with factory() as s:
        cohort = trainer.visible_cohorts(s, user=me)[0]
        rows = trainer.learners(s, [cohort.id])
        expected = prepost_summary(trainer.scores(s, [r.id for r in rows], COURSE)[COURSE.modules[0].id],
                                   COURSE.modules[0].pass_mark)
    at = app("demo.trainer", "en")
    at.run()
    at.switch_page("screens/cohort.py").run()
    at.selectbox(key="cohort_id").set_value(cohort.id).run()
    table = at.dataframe[1].value  # [0] roster, [1] pre/post per module, [2] the split
    row = table.iloc[0]
    assert row[t("en", "cohort.n")] == str(expected.n_paired)
    assert row[t("en", "cohort.mean_pre")] == f"{expected.mean_pre:,.0f}%"
    # Split by sex: every group is either shown with n >= 5 or suppressed as "n < 5".
    split = at.dataframe[2].value
    for _, group in split.iterrows():
        n = group[t("en", "cohort.n")]
        assert n == "n < 5" or int(n.replace(",", "")) >= 5


def test_export_round_trip_equals_the_page(app, factory):
    """The XLSX read back holds exactly the roster the page shows, Khmer intact, plus the other tables."""
    from engine.app.state import Context
    from engine.app.trainerview import roster_table
    from engine.exports import read_xlsx, to_xlsx, xlsx_view

    at = app("demo.trainer", "km")
    at.run()
    at.switch_page("screens/cohort.py").run()
    shown = at.dataframe[0].value
    me = user(factory, "demo.trainer")
    with factory() as s:
        cohort = s.get(Cohort, at.session_state["cohort_id"])
        rows = trainer.learners(s, [cohort.id])
    ctx = Context(settings=None, lang="km", user=me, courses={"km": load(SAMPLE)["km"]}, factory=None)
    table = roster_table(ctx, rows)
    back = read_xlsx(to_xlsx([table]))
    assert back == xlsx_view([table])
    assert list(back[0].columns) == list(shown.columns)
    assert [tuple(r) for r in back[0].rows] == [tuple(r) for r in shown.itertuples(index=False)]
    assert any("\u1780" <= ch <= "\u17ff" for ch in back[0].rows[0][0])  # a Khmer name, intact
    assert len(at.get("download_button")) == 5


def test_all_my_cohorts_split_by_cohort(app):
    at = app("demo.trainer", "en")
    at.run()
    at.switch_page("screens/cohort.py").run()
    at.selectbox(key="cohort_id").set_value("__all__").run()
    at.radio(key="split_by").set_value("cohort_id").run()
    assert not at.exception
    groups = list(at.dataframe[2].value[t("en", "cohort.group")])
    assert set(groups) == {"Siem Reap 2026", "Ratanakiri 2026", t("en", "cohort.total")}
    overall = at.dataframe[1].value
    assert overall.iloc[-1][t("en", "cohort.group")] == t("en", "cohort.overall")


def test_administrator_filters_cohorts_by_province_and_kind(app):
    at = app("demo.admin", "en")
    at.run()
    assert len(at.dataframe[0].value) == 5
    at.selectbox(key="filter_province").set_value("16").run()
    assert list(at.dataframe[0].value[t("en", "cohorts.name")]) == ["Ratanakiri 2026"]
    at.selectbox(key="filter_province").set_value(None)
    at.selectbox(key="filter_kind").set_value("tot").run()
    assert len(at.dataframe[0].value) == 1 and not at.exception


def test_every_roster_problem_code_is_translated():
    import re
    from pathlib import Path

    from engine.app.i18n import catalog

    source = (Path(__file__).resolve().parents[2] / "engine" / "roster.py").read_text()
    codes = set(re.findall(r'_Bad\("([a-z_]+)"', source))
    codes |= set(re.findall(r'_refused\([^,]+,\s*"([a-z_]+)"', source))
    codes |= set(re.findall(r'RosterProblem\([^,]+,[^,]+,\s*"([a-z_]+)"', source))
    made_up = {"bad_sex", "unknown_province", "bad_org_type", "duplicate_phone", "duplicate_username"}
    assert all(code in source for code in made_up)  # codes built at run time
    codes |= made_up
    assert {"formula", "phone_taken", "unknown_column", "not_a_roster"} <= codes
    missing = sorted(c for c in codes if f"roster.err_{c}" not in catalog("km"))
    assert missing == []


def test_trainer_adds_one_learner_and_a_repeat_is_refused(app, factory):
    at = app("demo.trainer", "en")
    at.run()
    at.switch_page("screens/cohort.py").run()
    at.text_input(key="add_name_km").input("ស៊ាង ពិសី")
    at.text_input(key="add_name_latin").input("Seang Pisey")
    at.selectbox(key="add_sex").set_value("female")
    at.text_input(key="add_phone").input("012 777 888")
    at.button(key="FormSubmitter:add_learner-" + t("en", "roster.add_submit")).click().run()
    assert not at.exception and at.success, [e.value for e in at.error]
    created = next(d.value for d in at.dataframe if t("en", "roster.temporary_password") in d.value.columns)
    assert list(created[t("en", "users.name")]) == ["ស៊ាង ពិសី"]
    from engine import accounts
    from engine.store.db import transaction

    username = created[t("en", "users.username")][0]
    password = created[t("en", "roster.temporary_password")][0]
    with transaction(factory) as s:
        assert accounts.authenticate(s, login="012777888", password=password).username == username
    # The same person again is refused, by row, and nothing is written.
    at.button(key="FormSubmitter:add_learner-" + t("en", "roster.add_submit")).click().run()
    assert at.error and t("en", "roster.err_phone_taken") in " ".join(m.value for m in at.markdown)

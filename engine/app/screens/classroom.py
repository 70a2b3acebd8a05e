import datetime as dt

import streamlit as st

from engine import classroom, trainer, views
from engine.app import state
from engine.app.i18n import day, number
from engine.errors import InputError, NotAllowed
from engine.store.models import User

ctx = state.current()
user = state.require(ctx, "facilitator", "trainer", "coordinator", "admin")
st.title(ctx.t("classroom.title"))
with ctx.db() as session:
    cohorts = trainer.visible_cohorts(session, user=user)
    sessions = views.facilitator_sessions(session, user=user)
titles = {m.id: f"{number(ctx.lang, m.number)}. {m.title}" for m in ctx.course.modules}
if cohorts:
    with st.expander(ctx.t("session.new"), expanded=not sessions), st.form("open_session"):
        names = {c.id: c.name for c in cohorts}
        cohort_id = st.selectbox(ctx.t("session.cohort"), list(names), format_func=names.get, key="new_cohort")
        module_id = st.selectbox(ctx.t("session.module"), list(titles), format_func=titles.get, key="new_module")
        venue = st.text_input(ctx.t("session.venue"), key="new_venue", max_chars=200)
        held_on = st.date_input(ctx.t("session.date"), value=dt.date.today(), key="new_date")
        if st.form_submit_button(ctx.t("session.open"), type="primary"):
            try:
                with ctx.write() as session:
                    opened = classroom.open_session(session, by=session.get(User, user.id), cohort_id=cohort_id,
                                                    module_id=module_id, venue=venue, held_on=held_on,
                                                    course=ctx.course)
                    st.session_state["live_session"] = opened.id
                st.switch_page("screens/session.py")
            except (InputError, NotAllowed) as exc:
                st.error(ctx.t("study.refused"))
                state.log.warning("refused: %s", exc)
if not sessions:
    st.info(ctx.t("classroom.none"))
else:
    st.dataframe([
        {ctx.t("classroom.date"): day(ctx.lang, s.held_on),
         ctx.t("classroom.module"): titles.get(s.module_id, s.module_id),
         ctx.t("classroom.cohort"): s.cohort_name, ctx.t("classroom.venue"): s.venue,
         ctx.t("classroom.state"): ctx.t(f"classroom.state_{s.state}"), ctx.t("classroom.join_code"): s.join_code}
        for s in sessions
    ], hide_index=True, width="stretch")
    if st.button(ctx.t("session.console"), key="to_console"):
        st.switch_page("screens/session.py")

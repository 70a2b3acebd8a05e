import streamlit as st

from engine import views
from engine.app import state
from engine.app.i18n import day

ctx = state.current()
user = state.require(ctx, "facilitator", "coordinator", "admin")
st.title(ctx.t("classroom.title"))
with ctx.db() as session:
    sessions = views.facilitator_sessions(session, user=user)
if not sessions:
    st.info(ctx.t("classroom.none"))
else:
    titles = {m.id: m.title for m in ctx.course.modules}
    st.dataframe([
        {ctx.t("classroom.date"): day(ctx.lang, s.held_on),
         ctx.t("classroom.module"): titles.get(s.module_id, s.module_id),
         ctx.t("classroom.cohort"): s.cohort_name, ctx.t("classroom.venue"): s.venue,
         ctx.t("classroom.state"): ctx.t(f"classroom.state_{s.state}"), ctx.t("classroom.join_code"): s.join_code}
        for s in sessions
    ], hide_index=True, use_container_width=True)

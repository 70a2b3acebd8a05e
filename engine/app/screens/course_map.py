import streamlit as st

from engine import learning, views
from engine.app import state
from engine.app.i18n import number

ctx = state.current()
user = state.require(ctx, "learner")
st.title(ctx.t("course_map.title"))
with ctx.db() as session:
    records = learning.load_records(session, user_id=user.id, course=ctx.course)
progress = views.learner_progress(ctx.course, records)
resume = learning.resume_point(ctx.course, records)
if resume is None:
    st.success(ctx.t("study.all_done"))
elif st.button(ctx.t("study.continue"), type="primary", key="continue", width="stretch"):
    st.session_state["study_module"] = resume[0]
    st.switch_page("screens/study.py")
for module, mine in zip(ctx.course.modules, progress, strict=True):
    with st.container(border=True):
        st.subheader(f"{number(ctx.lang, module.number)}. {module.title}")
        st.caption(ctx.t(f"course_map.state_{mine.state}") + " · "
                   + ctx.t("course_map.minutes_left", minutes=number(ctx.lang, mine.minutes_left)))
        st.progress(mine.sections_done / mine.sections_total if mine.sections_total else 0.0,
                    text=ctx.t("course_map.progress", done=number(ctx.lang, mine.sections_done),
                               total=number(ctx.lang, mine.sections_total)))
        with st.expander(ctx.t("course_map.objectives")):
            st.markdown("\n".join(f"- {text}" for _, text in module.objectives))
        if st.button(ctx.t("course_map.open"), key=f"open:{module.id}"):
            st.session_state["study_module"] = module.id
            st.switch_page("screens/study.py")

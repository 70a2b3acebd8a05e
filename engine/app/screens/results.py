import streamlit as st

from engine import views
from engine.app import state
from engine.app.i18n import number

ctx = state.current()
user = state.require(ctx, "learner")
st.title(ctx.t("results.title"))
with ctx.db() as session:
    progress = views.learner_progress(session, user_id=user.id, course=ctx.course)


def shown(value):
    return ctx.t("common.none") if value is None else number(ctx.lang, value) + "%"


rows = [
    {ctx.t("results.module"): f"{number(ctx.lang, m.number)}. {m.title}",
     ctx.t("results.pre"): shown(p.pre_percent) if p.best_post_percent is not None else ctx.t("common.none"),
     ctx.t("results.post"): shown(p.best_post_percent),
     ctx.t("results.gain"): shown(p.best_post_percent - p.pre_percent)
     if p.best_post_percent is not None and p.pre_percent is not None else ctx.t("common.none")}
    for m, p in zip(ctx.course.modules, progress, strict=True)
    if p.pre_percent is not None or p.best_post_percent is not None
]
if rows:
    st.dataframe(rows, hide_index=True, use_container_width=True)
else:
    st.info(ctx.t("results.none"))

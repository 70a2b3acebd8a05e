import plotly.graph_objects as go
import streamlit as st

from engine import learning, views
from engine.app import state
from engine.app.i18n import number

ctx = state.current()
user = state.require(ctx, "learner")
st.title(ctx.t("results.title"))
with ctx.db() as session:
    records = learning.load_records(session, user_id=user.id, course=ctx.course)
progress = views.learner_progress(ctx.course, records)


def shown(value):
    return ctx.t("common.none") if value is None else number(ctx.lang, value) + "%"


# The pre-test score is shown only once the module's post-test has been taken.
taken = [(m, p) for m, p in zip(ctx.course.modules, progress, strict=True) if p.best_post_percent is not None]
if not taken:
    st.info(ctx.t("results.none"))
    st.stop()
st.dataframe([
    {ctx.t("results.module"): f"{number(ctx.lang, m.number)}. {m.title}",
     ctx.t("results.pre"): shown(p.pre_percent), ctx.t("results.post"): shown(p.best_post_percent),
     ctx.t("results.gain"): shown(p.best_post_percent - p.pre_percent) if p.pre_percent is not None
     else ctx.t("common.none")}
    for m, p in taken
], hide_index=True, width="stretch")
labels = [number(ctx.lang, m.number) for m, _ in taken]
figure = go.Figure([
    go.Bar(name=ctx.t("results.pre"), x=labels, y=[p.pre_percent or 0 for _, p in taken], marker_color="#9aa5b1"),
    go.Bar(name=ctx.t("results.post"), x=labels, y=[p.best_post_percent for _, p in taken], marker_color="#8a1c2b"),
])
figure.update_layout(barmode="group", height=280, margin=dict(l=10, r=10, t=10, b=10),
                     yaxis=dict(range=[0, 100], ticksuffix="%"), xaxis_title=ctx.t("results.module"),
                     legend=dict(orientation="h", y=-0.3), font=dict(family="KhmerSans, sans-serif"))
st.plotly_chart(figure, width="stretch", config={"displayModeBar": False})
st.subheader(ctx.t("results.review"))
anything = False
for module, _ in taken:
    for section_id in learning.sections_to_review(module, records[module.id]):
        anything = True
        st.markdown(f"- {number(ctx.lang, module.number)}. {module.title} — {module.section(section_id).title}")
if not anything:
    st.caption(ctx.t("results.nothing_to_review"))

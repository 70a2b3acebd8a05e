import plotly.graph_objects as go
import streamlit as st

from engine import trainer
from engine.app import state
from engine.app.i18n import number
from engine.app.usertext import chart_label

ctx = state.current()
user = state.require(ctx, "trainer", "coordinator", "admin")
st.title(ctx.t("cascade.title"))
st.caption(ctx.t("cascade.intro"))
with ctx.db() as session:
    cohorts = trainer.visible_cohorts(session, user=user)
    nodes = trainer.cascade(session, cohorts, ctx.course)
if not nodes:
    st.info(ctx.t("cohorts.none"))
    st.stop()
shown = {n.cohort_id for n in nodes}
figure = go.Figure(go.Sunburst(
    ids=[n.cohort_id for n in nodes],
    labels=[chart_label(n.name) for n in nodes],
    parents=[n.parent_id if n.parent_id in shown else "" for n in nodes],
    values=[max(n.learners, 1) for n in nodes], branchvalues="remainder",
    marker=dict(colors=[n.completed_all / n.learners if n.learners else 0 for n in nodes],
                colorscale=[[0, "#f3d9a4"], [1, "#2e7d4f"]], cmin=0, cmax=1),
    customdata=[[number(ctx.lang, n.learners), number(ctx.lang, n.completed_all),
                 ctx.t("common.none") if n.mean_gain is None else number(ctx.lang, n.mean_gain, 1)] for n in nodes],
    hovertemplate="%{label}<br>" + ctx.t("cascade.hover") + "<extra></extra>",
))
figure.update_layout(height=460, margin=dict(l=10, r=10, t=10, b=10), font=dict(family="KhmerSans, sans-serif"))
st.plotly_chart(figure, width="stretch", config={"displayModeBar": False})
st.dataframe([
    {ctx.t("cohorts.name"): n.name, ctx.t("cohorts.kind"): ctx.t(f"cohorts.kind_{n.kind}"),
     ctx.t("cascade.trainer"): n.trainer_name or ctx.t("common.none"),
     ctx.t("cohorts.learners"): number(ctx.lang, n.learners),
     ctx.t("cascade.completed_all"): number(ctx.lang, n.completed_all),
     ctx.t("cascade.mean_gain"): ctx.t("common.none") if n.mean_gain is None else number(ctx.lang, n.mean_gain, 1)}
    for n in nodes
], hide_index=True, width="stretch")
st.subheader(ctx.t("cascade.reach"))
reach: dict[str, list] = {}
for n in nodes:
    if n.trainer_name:
        reach.setdefault(n.trainer_name, []).append(n)
st.dataframe([
    {ctx.t("cascade.trainer"): name, ctx.t("cascade.cohorts"): number(ctx.lang, len(group)),
     ctx.t("cascade.learners_reached"): number(ctx.lang, sum(n.learners for n in group)),
     ctx.t("cascade.completed_all"): number(ctx.lang, sum(n.completed_all for n in group))}
    for name, group in sorted(reach.items())
], hide_index=True, width="stretch")

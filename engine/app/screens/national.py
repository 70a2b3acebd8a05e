"""National overview, for coordinators and administrators: completion and pre/post by sex and by province,
and the item analysis of a module's tests over the whole country (engine.national: aggregate queries)."""

import plotly.graph_objects as go
import streamlit as st

from engine import national
from engine.app import state
from engine.app.i18n import number
from engine.app.trainerview import pct, summary_row
from engine.places import province_name

ctx = state.current()
user = state.require(ctx, "coordinator", "admin")
course = ctx.course
st.title(ctx.t("national.title"))
st.caption(ctx.t("national.intro"))
with ctx.db() as session:
    overview = national.overview(session, user=user, course=course)
done = sum(g.completed for g in overview.completion["sex"])
cols = st.columns(2)
cols[0].metric(ctx.t("national.learners"), number(ctx.lang, overview.learners))
cols[1].metric(ctx.t("national.completed"), number(ctx.lang, done))
key = st.radio(ctx.t("cohort.split_by"), list(national.DIMENSIONS), horizontal=True, key="national_split",
               format_func=lambda k: ctx.t(f"cohort.split_{k}"))


def shown(group: str | None) -> str:
    if group is None:
        return ctx.t("common.none")
    return ctx.t(f"sex.{group}") if key == "sex" else province_name(group, ctx.lang)


groups = overview.completion[key]
st.subheader(ctx.t("national.completion_title"))
chart = go.Figure(go.Bar(x=[shown(g.group) for g in groups],
                         y=[100 * g.completed / g.learners if g.learners else 0 for g in groups]))
chart.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), yaxis_title=ctx.t("national.completed_share"),
                    font=dict(family="KhmerSans, sans-serif"))
st.plotly_chart(chart, width="stretch", config={"displayModeBar": False})
st.dataframe([{ctx.t("cohort.group"): shown(g.group), ctx.t("national.learners"): number(ctx.lang, g.learners),
               ctx.t("national.completed"): number(ctx.lang, g.completed),
               ctx.t("national.completed_share"): pct(ctx, 100 * g.completed / g.learners if g.learners else None)}
              for g in groups], hide_index=True, width="stretch")

titles = {m.id: f"{number(ctx.lang, m.number)}. {m.title}" for m in course.modules}
st.subheader(ctx.t("national.prepost_title"))
module_id = st.selectbox(ctx.t("results.module"), list(titles), format_func=titles.get, key="national_module")
st.caption(ctx.t("national.passed", n=number(ctx.lang, overview.passed[module_id])))
st.dataframe([
    summary_row(ctx, ctx.t("cohort.total") if g.total else shown(g.group), g.summary) if not g.suppressed else
    {ctx.t("cohort.group"): shown(g.group), ctx.t("cohort.n"): ctx.t("common.n_small")}
    for g in overview.modules[module_id][key]
], hide_index=True, width="stretch")

st.subheader(ctx.t("national.items_title"))
kind = st.radio(ctx.t("national.test"), ["post", "pre"], horizontal=True, key="national_test",
                format_func=lambda k: ctx.t("results.post" if k == "post" else "results.pre"))
module = course.module(module_id)
with ctx.db() as session:
    analysis = national.item_analysis(session, user=user, module=module, kind=kind)
o = analysis.overall
cols = st.columns(3)
cols[0].metric(ctx.t("cohort.attempts"), number(ctx.lang, o.n))
cols[1].metric(ctx.t("cohort.alpha"), "—" if o.alpha is None else number(ctx.lang, o.alpha, 2))
cols[2].metric(ctx.t("cohort.mean"), "—" if o.mean is None else number(ctx.lang, o.mean, 1))


def ratio(value, digits=2):
    return "—" if value is None else number(ctx.lang, value, digits)


items = module.pre_test if kind == "pre" else module.post_test
stats = {s.item_id: s for s in analysis.items}
st.dataframe([
    {ctx.t("cohort.item"): f"{number(ctx.lang, n)}. {item.stem[:70]}",
     ctx.t("national.facility"): ratio(stats[item.id].facility),
     ctx.t("cohort.discrimination"): ratio(stats[item.id].discrimination),
     ctx.t("cohort.item_rest"): ratio(stats[item.id].item_rest),
     ctx.t("cohort.options"): " ".join(f"{oid}:{number(ctx.lang, 100 * share)}%"
                                       for oid, share in stats[item.id].option_shares.items()),
     ctx.t("cohort.flags"): "; ".join(ctx.t(f"cohort.flag_{f}") for f in stats[item.id].flags)}
    for n, item in enumerate((i for i in items if i.id in stats), start=1)
], hide_index=True, width="stretch")
st.caption(ctx.t("cohort.thresholds"))

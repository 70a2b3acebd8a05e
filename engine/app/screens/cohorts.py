import streamlit as st

from engine import views
from engine.app import state
from engine.app.i18n import number
from engine.places import province_name

ctx = state.current()
user = state.require(ctx, "trainer", "facilitator", "coordinator", "admin")
st.title(ctx.t("cohorts.title"))
with ctx.db() as session:
    cohorts = views.cohort_summaries(session, user=user)
if not cohorts:
    st.info(ctx.t("cohorts.none"))
else:
    def pct(value):
        return ctx.t("common.none") if value is None else number(ctx.lang, value) + "%"

    st.dataframe([
        {ctx.t("cohorts.name"): c.name, ctx.t("cohorts.kind"): ctx.t(f"cohorts.kind_{c.kind}"),
         ctx.t("cohorts.province"): province_name(c.province_code, ctx.lang),
         ctx.t("cohorts.parent"): c.parent_name or ctx.t("common.none"),
         ctx.t("cohorts.learners"): number(ctx.lang, c.learners),
         ctx.t("cohorts.active_7d"): number(ctx.lang, c.active_7d),
         ctx.t("cohorts.mean_pre"): pct(c.mean_pre), ctx.t("cohorts.mean_post"): pct(c.mean_post)}
        for c in cohorts
    ], hide_index=True, use_container_width=True)

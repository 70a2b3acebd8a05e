import plotly.graph_objects as go
import streamlit as st

from engine import trainer
from engine.analytics import disaggregate, funnel, overall_scores, prepost_summary
from engine.app import state
from engine.app.i18n import day, number
from engine.app.trainerview import summary_row
from engine.app.usertext import md
from engine.places import province_name
from engine.store.base import utcnow

ctx = state.current()
user = state.require(ctx, "trainer", "facilitator", "coordinator", "admin")
course = ctx.course
with ctx.db() as session:
    cohorts = trainer.visible_cohorts(session, user=user)
if not cohorts:
    st.info(ctx.t("cohorts.none"))
    st.stop()
names = {c.id: c.name for c in cohorts}
cohort_id = st.selectbox(ctx.t("cohorts.name"), list(names), format_func=names.get, key="report_cohort")
cohort = next(c for c in cohorts if c.id == cohort_id)
with ctx.db() as session:
    trainer.check_cohorts(session, user=user, cohort_ids=[cohort_id])
    rows = trainer.learners(session, [cohort_id])
    ids = [r.id for r in rows]
    scores = trainer.scores(session, ids, course)
    progress = trainer.progress(session, ids, course)
st.html("""<style>
@media print {
  @page { size: A4; margin: 14mm; }
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"], .stSelectbox,
  .stButton { display: none !important; }
  .block-container { padding: 0 !important; max-width: none !important; }
  [data-testid="stPlotlyChart"], [data-testid="stDataFrame"], table { break-inside: avoid; }
}
</style>""")
st.title(ctx.t("report.title", cohort=md(cohort.name)))
st.caption(ctx.t("report.meta", province=province_name(cohort.province_code, ctx.lang),
                 kind=ctx.t(f"cohorts.kind_{cohort.kind}"), learners=number(ctx.lang, len(rows)),
                 date=day(ctx.lang, utcnow())))
titles = {m.id: f"{number(ctx.lang, m.number)}. {m.title}" for m in course.modules}
st.subheader(ctx.t("report.prepost"))
overall = overall_scores(scores)
table = [summary_row(ctx, titles[m.id], prepost_summary(scores[m.id], m.pass_mark)) for m in course.modules]
table.append(summary_row(ctx, ctx.t("cohort.overall"), prepost_summary(overall, course.pass_mark)))
st.table(table)
st.subheader(ctx.t("report.by_sex"))
st.table([
    summary_row(ctx, ctx.t("cohort.total") if g.total else ctx.t(f"sex.{g.group}") if g.group else
                ctx.t("common.none"), g.summary) if not g.suppressed else
    {ctx.t("cohort.group"): ctx.t(f"sex.{g.group}") if g.group else ctx.t("common.none"),
     ctx.t("cohort.n"): ctx.t("common.n_small")}
    for g in disaggregate(overall, trainer.people(rows), "sex", course.pass_mark)
])
st.subheader(ctx.t("cohort.funnel_title"))
stages = ("enrolled", "took_pre_test", "read_all_sections", "passed_post_test")
figure = go.Figure([go.Bar(name=ctx.t(f"cohort.funnel_{stage}"), x=[number(ctx.lang, m.number) for m in course.modules],
                           y=[getattr(f, stage) for f in funnel(progress)]) for stage in stages])
figure.update_layout(barmode="group", height=300, margin=dict(l=10, r=10, t=10, b=10),
                     xaxis_title=ctx.t("results.module"), legend=dict(orientation="h", y=-0.3),
                     font=dict(family="KhmerSans, sans-serif"))
st.plotly_chart(figure, width="stretch", config={"displayModeBar": False})
st.caption(ctx.t("report.print_hint"))

import plotly.graph_objects as go
import streamlit as st

from engine import trainer
from engine.app import state
from engine.app.i18n import number
from engine.app.rosterview import roster_controls
from engine.app.trainerview import pct, progress_table, responses_table, roster_table, scores_table, summary_row
from engine.app.usertext import chart_label, md
from engine.exports import to_csv, to_xlsx
from engine.places import province_name

ctx = state.current()
user = state.require(ctx, "trainer", "facilitator", "coordinator", "admin")
course = ctx.course
st.title(ctx.t("cohort.title"))
with ctx.db() as session:
    cohorts = trainer.visible_cohorts(session, user=user)
if not cohorts:
    st.info(ctx.t("cohorts.none"))
    st.stop()
ALL = "__all__"
# Learners the "all my cohorts" view may hold: beyond it (an administrator's country) the page would read
# every one of them on each rerun; the National overview answers with aggregates instead. (A comment, not
# a string: Streamlit's magic shows a bare string on a page.)
ALL_AT_MOST = 2000
names = {c.id: c.name for c in cohorts}
if len(cohorts) > 1:
    with ctx.db() as session:
        together = trainer.enrolled(session, [c.id for c in cohorts])
    if together <= ALL_AT_MOST:
        names[ALL] = ctx.t("cohort.all_mine")
    else:
        st.caption(ctx.t("cohort.all_too_many", n=number(ctx.lang, together)))
if st.session_state.get("cohort_id") not in names:
    st.session_state["cohort_id"] = cohorts[0].id
cohort_id = st.selectbox(ctx.t("cohorts.name"), list(names), format_func=names.get, key="cohort_id")
chosen_ids = [c.id for c in cohorts] if cohort_id == ALL else [cohort_id]
titles = {m.id: f"{number(ctx.lang, m.number)}. {m.title}" for m in course.modules}
SPLITS = ["sex", "province_code", "org_type", "position"] + (["cohort_id"] if cohort_id == ALL else [])
# The choices made on the tabs below, read before the data so that one call computes every figure.
for name, choices in (("split_by", SPLITS), ("split_module", [ALL, *titles]), ("items_module", list(titles))):
    if st.session_state.get(name) not in choices:
        st.session_state[name] = choices[0]
with ctx.db() as session:
    board = trainer.dashboard(session, user=user, course=course, cohort_ids=chosen_ids,
                              items_module=st.session_state["items_module"], split_by=st.session_state["split_by"],
                              split_module=st.session_state["split_module"])
rows, scores, progress, flags = board.learners, board.scores, board.progress, board.flags
ids = [r.id for r in rows]
tabs = st.tabs([ctx.t(f"cohort.tab_{k}") for k in ("roster", "progress", "completion", "prepost", "items",
                                                     "export")])

with tabs[0]:
    st.caption(ctx.t("cohort.learners", n=number(ctx.lang, len(rows))))
    roster = roster_table(ctx, rows)
    st.dataframe([dict(zip(roster.columns, row, strict=True)) for row in roster.rows], hide_index=True,
                 width="stretch")
    if cohort_id != ALL and user.role in ("trainer", "coordinator", "admin"):
        roster_controls(ctx, cohort_id)

with tabs[1]:
    state_of = {}
    for p in progress:
        state_of[(p.learner_id, p.module_id)] = 3 if p.passed_post_test else 2 if p.read_all_sections else \
            1 if p.took_pre_test else 0
    post_of = {(s.learner_id, s.module_id): s.post for m in scores.values() for s in m}
    labels = [ctx.t(f"cohort.state_{k}") for k in range(4)]
    z = [[state_of.get((r.id, m.id), 0) for m in course.modules] for r in rows]
    text = [[labels[state_of.get((r.id, m.id), 0)] + (f" · {pct(ctx, post_of[(r.id, m.id)])}"
             if post_of.get((r.id, m.id)) is not None else "") for m in course.modules] for r in rows]
    grid = go.Figure(go.Heatmap(
        z=z, x=[number(ctx.lang, m.number) for m in course.modules], y=[chart_label(r.name_km) for r in rows],
        text=text,
        hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>", zmin=0, zmax=3, showscale=False,
        colorscale=[[0, "#eeeeee"], [0.33, "#f3d9a4"], [0.66, "#9cc3e6"], [1, "#2e7d4f"]], xgap=2, ygap=2))
    grid.update_layout(height=max(260, 22 * len(rows) + 80), margin=dict(l=10, r=10, t=10, b=10),
                       yaxis=dict(autorange="reversed"), xaxis=dict(side="top", title=ctx.t("results.module")),
                       font=dict(family="KhmerSans, sans-serif"))
    st.plotly_chart(grid, width="stretch", config={"displayModeBar": False})
    st.caption(" · ".join(f"{labels[k]}" for k in range(4)))
    flagged = [(r, flags[r.id]) for r in rows if flags[r.id].inactive or flags[r.id].stuck_section
               or flags[r.id].failed_post_twice]
    st.subheader(ctx.t("cohort.flags"))
    if not flagged:
        st.caption(ctx.t("cohort.no_flags"))
    for r, f in flagged:
        reasons = [ctx.t("cohort.flag_inactive")] if f.inactive else []
        if f.stuck_section:
            module_id, section_id = f.stuck_section.split("/")
            module = course.module(module_id)
            section = module.section(section_id) if module else None
            reasons.append(ctx.t("cohort.flag_stuck", section=section.title if section else section_id))
        if f.failed_post_twice:
            reasons.append(ctx.t("cohort.flag_failed_twice"))
        st.markdown(f"- **{md(r.name_km)}** — " + "; ".join(reasons))
    chosen = st.selectbox(ctx.t("cohort.one_learner"), ids, index=None, key="cohort_learner",
                          format_func={r.id: r.name_km for r in rows}.get)
    if chosen:
        st.dataframe([
            {ctx.t("results.module"): titles[m.id], ctx.t("cohort.state"): labels[state_of.get((chosen, m.id), 0)],
             ctx.t("results.pre"): pct(ctx, next((s.pre for s in scores[m.id] if s.learner_id == chosen), None)),
             ctx.t("results.post"): pct(ctx, post_of.get((chosen, m.id)))}
            for m in course.modules
        ], hide_index=True, width="stretch")

with tabs[2]:
    weekly = board.weekly
    figure = go.Figure([go.Scatter(x=[w.starts for w in c.weeks], y=[w.cumulative for w in c.weeks],
                                   mode="lines+markers", name=titles.get(c.module_id, c.module_id)) for c in weekly])
    figure.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), title=ctx.t("cohort.completion_title"),
                         yaxis_title=ctx.t("cohort.completed"), font=dict(family="KhmerSans, sans-serif"),
                         legend=dict(orientation="h", y=-0.25))
    st.plotly_chart(figure, width="stretch", config={"displayModeBar": False})
    stages = ("enrolled", "took_pre_test", "read_all_sections", "passed_post_test")
    totals = {stage: 0 for stage in stages}
    for f in board.funnel:
        for stage in stages:
            totals[stage] += getattr(f, stage)
    chart = go.Figure(go.Funnel(y=[ctx.t(f"cohort.funnel_{s}") for s in stages], x=[totals[s] for s in stages]))
    chart.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10), title=ctx.t("cohort.funnel_title"),
                        font=dict(family="KhmerSans, sans-serif"))
    st.plotly_chart(chart, width="stretch", config={"displayModeBar": False})

with tabs[3]:
    st.dataframe([summary_row(ctx, titles[m.id], board.summaries[m.id]) for m in course.modules]
                 + [summary_row(ctx, ctx.t("cohort.overall"), board.summaries[trainer.OVERALL])],
                 hide_index=True, width="stretch")
    st.caption(ctx.t("cohort.overall_note"))
    key = st.radio(ctx.t("cohort.split_by"), SPLITS, horizontal=True, key="split_by",
                   format_func=lambda k: ctx.t(f"cohort.split_{k}"))
    st.selectbox(ctx.t("results.module"), [ALL, *titles], key="split_module",
                 format_func=lambda m: ctx.t("cohort.overall") if m == ALL else titles[m])
    shown = {"sex": lambda g: ctx.t(f"sex.{g}"), "province_code": lambda g: province_name(g, ctx.lang),
             "org_type": lambda g: ctx.t(f"org.{g}"), "position": lambda g: g,
             "cohort_id": lambda g: names.get(g, g)}[key]
    groups = board.split
    st.dataframe([
        summary_row(ctx, ctx.t("cohort.total") if g.total else ctx.t("common.none") if g.group is None
                    else shown(g.group), g.summary) if not g.suppressed else
        {ctx.t("cohort.group"): shown(g.group) if g.group else ctx.t("common.none"),
         ctx.t("cohort.n"): ctx.t("common.n_small")}
        for g in groups
    ], hide_index=True, width="stretch")

with tabs[4]:
    st.selectbox(ctx.t("results.module"), list(titles), format_func=titles.get, key="items_module")
    module = course.module(board.items_module)
    analysis = board.items
    side = {r.item_id: r for r in board.facility}
    stats = {s.item_id: s for s in analysis.items}
    o = analysis.overall
    cols = st.columns(4)
    cols[0].metric(ctx.t("cohort.attempts"), number(ctx.lang, o.n))
    cols[1].metric(ctx.t("cohort.alpha"), "—" if o.alpha is None else number(ctx.lang, o.alpha, 2))
    cols[2].metric(ctx.t("cohort.mean"), "—" if o.mean is None else number(ctx.lang, o.mean, 1))
    cols[3].metric(ctx.t("cohort.sem"), "—" if o.sem is None else number(ctx.lang, o.sem, 2))
    for flag in o.flags:
        st.warning(ctx.t(f"cohort.flag_{flag}"))

    def ratio(value, digits=2):
        return "—" if value is None else number(ctx.lang, value, digits)

    st.dataframe([
        {ctx.t("cohort.item"): f"{number(ctx.lang, n)}. {item.stem[:70]}",
         ctx.t("cohort.facility_pre"): ratio(side[item.id].facility_pre),
         ctx.t("cohort.facility_post"): ratio(side[item.id].facility_post),
         ctx.t("cohort.discrimination"): ratio(s.discrimination), ctx.t("cohort.item_rest"): ratio(s.item_rest),
         ctx.t("cohort.options"): " ".join(f"{oid}:{number(ctx.lang, 100 * share)}%"
                                           for oid, share in s.option_shares.items()),
         ctx.t("cohort.flags"): "; ".join(ctx.t(f"cohort.flag_{f}") for f in s.flags)}
        for n, (item, s) in enumerate(((i, stats[i.id]) for i in module.post_test), start=1)
    ], hide_index=True, width="stretch")
    st.caption(ctx.t("cohort.thresholds"))

with tabs[5]:
    st.caption(ctx.t("cohort.export_intro"))

    def export_tables() -> list:
        """The four tables, made when a download is asked for, not on every rerun of the page: a
        spreadsheet of a large cohort takes seconds to write. Plain values only (no Streamlit here)."""
        with ctx.db() as session:
            responses = trainer.all_first_responses(session, ids, course)
        return [roster, progress_table(ctx, rows, progress), scores_table(ctx, rows, scores, course),
                responses_table(ctx, rows, responses)]

    stem = "sala-" + "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in names[cohort_id]).strip("-").lower()
    st.download_button(ctx.t("cohort.download_xlsx"), lambda: to_xlsx(export_tables()), file_name=f"{stem}.xlsx",
                       key="xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    for n, name in enumerate((ctx.t("cohort.tab_roster"), ctx.t("cohort.tab_progress"),
                              ctx.t("cohort.export_scores"), ctx.t("cohort.export_responses"))):
        st.download_button(ctx.t("cohort.download_csv", table=name), lambda n=n: to_csv(export_tables()[n]),
                           key=f"csv{n}", file_name=f"{stem}-{n + 1}.csv", mime="text/csv")

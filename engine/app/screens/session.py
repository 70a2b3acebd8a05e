import io
import time

import plotly.graph_objects as go
import segno
import streamlit as st

from engine import bundle, classroom, classroom_paper
from engine.app import state
from engine.app.i18n import day, number
from engine.app.quizview import option_label
from engine.app.sheets import answer_sheets
from engine.app.trainerview import summary_row
from engine.app.usertext import md
from engine.errors import InputError, NotAllowed
from engine.net import lan_addresses
from engine.places import province_codes, province_name
from engine.store.base import ORG_TYPES, SEXES
from engine.store.models import User

ctx = state.current()
user = state.require(ctx, "facilitator", "trainer", "coordinator", "admin")
session_id = st.session_state.get("live_session")
with ctx.db() as db:
    me = db.get(User, user.id)
    mine = classroom.sessions_of(db, by=me)
    for s in mine:
        db.expunge(s)
if not mine:
    st.info(ctx.t("classroom.none"))
    st.stop()
labels = {s.id: f"{day(ctx.lang, s.held_on)} · {s.venue} · {s.join_code}" for s in mine}
if session_id not in labels:
    session_id = mine[0].id
session_id = st.selectbox(ctx.t("session.pick"), list(labels), index=list(labels).index(session_id),
                          format_func=labels.get, key="live_session")
live_row = next(s for s in mine if s.id == session_id)
module = ctx.course.module(live_row.module_id)
st.title(module.title)


def grid_problem(p: classroom_paper.GridProblem) -> str:
    """One problem of a paper grid, translated; the column comes from the file, so it is shown as text."""
    reason = ctx.t(f"grid.err_{p.code}")
    if p.row is not None:
        return ctx.t("roster.at", row=number(ctx.lang, p.row), column=md(p.column) or "—", reason=reason)
    return ctx.t("grid.at_column", column=md(p.column), reason=reason) if p.column else reason


def act(action) -> None:
    try:
        with ctx.write() as db:
            action(db, db.get(User, user.id))
    except classroom_paper.PaperRefused as exc:
        state.log.warning("refused: %s", exc)
        cells = [p for p in exc.problems if isinstance(p, classroom_paper.GridProblem)]
        if not cells:  # the two entries differ, or a sheet is typed once: the differences are listed above
            st.error(ctx.t("grid.commit_refused"))
            return
        st.error(ctx.t("grid.refused", n=number(ctx.lang, len(cells))))
        st.markdown("\n".join(f"- {grid_problem(p)}" for p in cells))
        return
    except (InputError, NotAllowed) as exc:
        st.error(ctx.t("study.refused"))
        state.log.warning("refused: %s", exc)
        return
    st.rerun()


tabs = st.tabs([ctx.t(f"session.tab_{k}") for k in ("join", "attendance", "present", "test", "paper")])
with tabs[0]:
    port = st.get_option("server.port") or 8501
    address = f"http://{lan_addresses()[0]}:{port}/?code={live_row.join_code}"
    left, right = st.columns([1, 1])
    left.markdown(f"# {live_row.join_code}")
    left.caption(ctx.t("session.join_how", address=address))
    qr = io.BytesIO()
    segno.make(address, error="m").save(qr, kind="png", scale=8, border=2)
    right.image(qr.getvalue(), width=260)
    if live_row.state == "open" and st.button(ctx.t("session.close"), key="close_session"):
        act(lambda db, by: classroom.close_session(db, by=by, session_id=session_id))
    with ctx.db() as db:
        packed = bundle.export_session(db, session_id=session_id)
    st.download_button(ctx.t("session.bundle"), packed, file_name=f"sala-session-{live_row.join_code}.zip",
                       mime="application/zip", key="bundle")
    st.caption(ctx.t("session.bundle_hint"))

with tabs[1]:
    with ctx.db() as db:
        people = classroom.attendance(db, session_id)
    present = sum(p.present for p in people)
    st.metric(ctx.t("session.present"), f"{number(ctx.lang, present)} / {number(ctx.lang, len(people))}")
    edited = st.data_editor(
        [{"id": p.user_id, ctx.t("users.name"): p.name_km, ctx.t("profile.name_latin"): p.name_latin,
          ctx.t("session.here"): p.present} for p in people],
        column_config={"id": None}, disabled=[ctx.t("users.name"), ctx.t("profile.name_latin")],
        hide_index=True, width="stretch", key="attendance_grid")
    ticked = [row["id"] for row in edited if row[ctx.t("session.here")]]
    if st.button(ctx.t("session.save_attendance"), key="save_attendance"):
        act(lambda db, by: classroom.tick_many(db, by=by, session_id=session_id, user_ids=ticked))
    with st.expander(ctx.t("session.walk_in")), st.form("walk_in"):
        walk = {"full_name_km": st.text_input(ctx.t("profile.name_km"), key="walk_name_km"),
                "full_name_latin": st.text_input(ctx.t("profile.name_latin"), key="walk_name_latin"),
                "sex": st.selectbox(ctx.t("users.sex"), SEXES, key="walk_sex", format_func=lambda x: ctx.t(f"sex.{x}")),
                "province_code": st.selectbox(ctx.t("profile.province"), province_codes(), index=None, key="walk_prov",
                                              format_func=lambda c: province_name(c, ctx.lang)),
                "org_type": st.selectbox(ctx.t("register.org_type"), ORG_TYPES, key="walk_org",
                                         format_func=lambda o: ctx.t(f"org.{o}")),
                "position": st.text_input(ctx.t("profile.position"), key="walk_position")}
        if st.form_submit_button(ctx.t("session.walk_in")):
            try:
                with ctx.write() as db:
                    added = classroom.add_walk_in(db, by=db.get(User, user.id), session_id=session_id, **walk)
                    shown = (added.user.full_name_km, added.user.username, added.temporary_password)
                st.success(ctx.t("session.walk_in_added", name=md(shown[0]), username=md(shown[1]),
                                  password=md(shown[2])))
            except (InputError, NotAllowed) as exc:
                st.error(ctx.t("study.refused"))
                state.log.warning("refused: %s", exc)

with tabs[2]:
    order = [sec.id for sec in module.sections] + [module.exercise.id]
    labels_present = {sec.id: f"{number(ctx.lang, n)}. {sec.title}" for n, sec in enumerate(module.sections, 1)}
    labels_present[module.exercise.id] = module.exercise.title
    current = live_row.current_section if live_row.current_section in order else order[0]
    at = order.index(current)
    back, label, forward = st.columns([1, 4, 1])
    if back.button("◀", key="present_back", disabled=at == 0, width="stretch"):
        act(lambda db, by: classroom.set_section(db, by=by, course=ctx.course, session_id=session_id,
                                                 section_id=order[at - 1]))
    label.markdown(f"**{labels_present[current]}** · {number(ctx.lang, at + 1)}/{number(ctx.lang, len(order))}")
    if forward.button("▶", key="present_next", disabled=at == len(order) - 1, width="stretch"):
        act(lambda db, by: classroom.set_section(db, by=by, course=ctx.course, session_id=session_id,
                                                 section_id=order[at + 1]))
    if live_row.current_section != current:
        act(lambda db, by: classroom.set_section(db, by=by, course=ctx.course, session_id=session_id,
                                                 section_id=current))
    big, notes = st.columns([3, 1])
    # Large type for the projector; the notes column is this screen's only, never a participant's.
    big.html("<style>.st-key-present_body p, .st-key-present_body li {font-size: 1.35rem; line-height: 2;}</style>")
    if current == module.exercise.id:
        big.markdown(f"## {module.exercise.title}")
        with big.container(key="present_body"):
            st.markdown(module.exercise.body)
        if big.button(ctx.t("session.start_timer", minutes=number(ctx.lang, module.exercise.minutes)),
                      key="start_timer"):
            st.session_state["timer_started"] = time.monotonic()

        @st.fragment(run_every=1)
        def timer() -> None:
            started = st.session_state.get("timer_started")
            if started is None:
                return
            left = max(0, int(module.exercise.minutes * 60 - (time.monotonic() - started)))
            st.metric(ctx.t("session.time_left"), f"{number(ctx.lang, left // 60)}:{left % 60:02d}")

        with big:
            timer()
        note_text = module.exercise.notes
    else:
        section = module.section(current)
        big.markdown(f"## {section.title}")
        with big.container(key="present_body"):
            st.markdown(section.body)
        note_text = section.notes
    with notes:
        st.caption(ctx.t("session.notes_private"))
        st.markdown(note_text)

with tabs[3]:
    kinds = {"pre": ctx.t("study.pre_title"), "post": ctx.t("study.post_title"), "poll": ctx.t("session.poll")}
    if live_row.open_test is None:
        kind = st.radio(ctx.t("session.which_test"), list(kinds), format_func=kinds.get, horizontal=True,
                        key="test_kind")
        checks = {i.id: f"{sec.title[:40]} · {i.stem[:60]}" for sec in module.sections for i in sec.checks
                  if i.type != "short_text"}
        poll_item = st.selectbox(ctx.t("session.poll_item"), list(checks), format_func=checks.get,
                                 key="poll_item") if kind == "poll" else None
        if st.button(ctx.t("session.open_test"), type="primary", key="open_test"):
            act(lambda db, by: classroom.open_test(db, by=by, course=ctx.course, session_id=session_id, kind=kind,
                                                   poll_item_id=poll_item))
    else:
        if st.button(ctx.t("session.close_test"), key="close_test"):
            act(lambda db, by: classroom.close_test(db, by=by, session_id=session_id))

        @st.fragment(run_every=2)
        def live_counts() -> None:
            with ctx.db() as db:
                counts = classroom.live_counts(db, session_id=session_id, kind=live_row.open_test, module=module,
                                               poll_item_id=live_row.poll_item)
            st.metric(ctx.t("session.answered"), f"{number(ctx.lang, counts.answered)} / "
                      f"{number(ctx.lang, counts.present)}")
            items = (module.pre_test if live_row.open_test == "pre" else module.post_test
                     if live_row.open_test == "post" else (module.items[live_row.poll_item],))
            for n, item in enumerate(items, 1):
                per = counts.per_item.get(item.id, {})
                figure = go.Figure(go.Bar(x=[per.get(o.id, 0) for o in item.options],
                                          y=[option_label(ctx, item, o.id)[:40] for o in item.options],
                                          orientation="h", marker_color="#8a1c2b"))
                figure.update_layout(height=40 + 28 * len(item.options), margin=dict(l=10, r=10, t=24, b=10),
                                     title=dict(text=f"{number(ctx.lang, n)}.", font=dict(size=13)),
                                     font=dict(family="KhmerSans, sans-serif"), yaxis=dict(autorange="reversed"))
                st.plotly_chart(figure, width="stretch", config={"displayModeBar": False},
                                key=f"count:{item.id}")

        live_counts()
    with ctx.db() as db:
        results = classroom.room_results(db, session_id=session_id, course=ctx.course)
    st.subheader(ctx.t("session.results"))
    st.dataframe([summary_row(ctx, ctx.t("cohort.total"), results.overall)] + [
        summary_row(ctx, ctx.t(f"sex.{g.group}") if g.group else ctx.t("common.none"), g.summary)
        if not g.suppressed else {ctx.t("cohort.group"): ctx.t(f"sex.{g.group}") if g.group else
                                  ctx.t("common.none"), ctx.t("cohort.n"): ctx.t("common.n_small")}
        for g in results.by_sex if not g.total], hide_index=True, width="stretch")

with tabs[4]:
    st.caption(ctx.t("session.paper_intro"))
    kind = st.radio(ctx.t("session.which_test"), ["pre", "post"], horizontal=True, key="paper_kind",
                    format_func=lambda k: ctx.t(f"study.{k}_title"))
    entry = st.radio(ctx.t("session.entry"), [1, 2], horizontal=True, key="paper_entry",
                     format_func=lambda n: ctx.t(f"session.entry_{n}"))
    items = module.pre_test if kind == "pre" else module.post_test
    with ctx.db() as db:
        people = [p for p in classroom.attendance(db, session_id) if p.present]
    grid = st.data_editor(
        [{"id": p.user_id, ctx.t("users.name"): p.name_km,
          **{f"{n}": "" for n, _ in enumerate(items, 1)}} for p in people],
        column_config={"id": None}, disabled=[ctx.t("users.name")], hide_index=True,
        width="stretch", key=f"paper:{kind}:{entry}")
    if st.button(ctx.t("session.save_paper"), key="save_paper"):
        def save(db, by):
            for row in grid:
                answers = {item.id: row.get(f"{n}") or None for n, item in enumerate(items, 1)}
                classroom_paper.save_paper_row(db, by=by, session_id=session_id, module=module, kind=kind,
                                               user_id=row["id"], entry_no=entry, answers=answers)
        act(save)
    with ctx.db() as db:
        problems = classroom_paper.mismatches(db, session_id=session_id, kind=kind)
    if problems:
        st.warning(ctx.t("session.mismatches", n=number(ctx.lang, len(problems))))
        who = {p.user_id: p.name_km for p in people}
        st.dataframe([{ctx.t("users.name"): who.get(m.user_id, m.user_id), ctx.t("cohort.item"): m.item_id,
                       ctx.t("session.entry_1"): m.first, ctx.t("session.entry_2"): m.second} for m in problems],
                     hide_index=True, width="stretch")
    upload = st.file_uploader(ctx.t("session.paper_upload"), type=["csv", "txt", "xlsx"], key="paper_file")
    if upload is not None and st.button(ctx.t("session.paper_upload_save"), key="paper_upload_save"):
        parsed = classroom_paper.parse_paper_grid(upload.getvalue(), upload.name, module, kind)
        act(lambda db, by: classroom_paper.save_paper_grid(db, by=by, session_id=session_id, module=module,
                                                           kind=kind, entry_no=entry, grid=parsed))
    with st.expander(ctx.t("session.sheets")):
        st.html(answer_sheets(ctx, module, kind, people))
    double = st.checkbox(ctx.t("session.require_double"), key="require_double")
    if st.button(ctx.t("session.commit_paper"), key="commit_paper"):
        act(lambda db, by: classroom_paper.commit_paper(db, by=by, session_id=session_id, kind=kind,
                                                        course=ctx.course, module=module,
                                                        require_double_entry=double))

import streamlit as st

from engine import classroom
from engine.app import state
from engine.app.quizview import ask, attempt_key
from engine.errors import InputError

ctx = state.current()
user = state.require(ctx, "learner")
st.title(ctx.t("join.title"))
joined = st.session_state.get("joined_session")
if joined is None:
    with st.form("join"):
        st.session_state.pop("join_redirected", None)
        code = st.text_input(ctx.t("join.code"), value=st.session_state.pop("join_code", ""), key="join_code_input",
                             max_chars=8)
        sent = st.form_submit_button(ctx.t("join.submit"), type="primary")
    if sent:
        with ctx.write() as session:
            found = classroom.find_open_session(session, code)
            if found is not None:
                classroom.join(session, session_id=found.id, user=session.merge(user))
                st.session_state["joined_session"] = found.id
                st.session_state["joined_module"] = found.module_id
                st.session_state["joined_code"] = found.join_code
                st.query_params["code"] = found.join_code  # a reload brings the phone back to this room
        if found is None:
            st.error(ctx.t("join.unknown"))
        else:
            st.rerun()
    st.stop()


@st.fragment(run_every=2)
def follow() -> None:
    """What the facilitator has on screen, polled from the database every two seconds."""
    with ctx.db() as session:
        live = classroom.live_state(session, joined)
    if live is None or live.state != "open":
        st.info(ctx.t("join.closed"))
        return
    module = ctx.course.module(st.session_state["joined_module"])
    if live.open_test in ("pre", "post"):
        items = module.pre_test if live.open_test == "pre" else module.post_test
        scope = f"live:{joined}:{live.open_test}"
        with ctx.db() as session:
            if classroom.has_answered(session, session_id=joined, user_id=user.id, kind=live.open_test):
                st.session_state[f"sent:{scope}"] = True
        if st.session_state.get(f"sent:{scope}"):
            st.success(ctx.t("join.sent"))
            return
        st.subheader(ctx.t(f"study.{live.open_test}_title"))
        key = attempt_key(scope)
        with st.form(f"form:{scope}"):
            answers = {i.id: ask(ctx, i, seed=key, key=f"{scope}:{i.id}", number=n) for n, i in enumerate(items, 1)}
            sent = st.form_submit_button(ctx.t("study.submit_test"), type="primary")
        if sent:
            try:
                with ctx.write() as session:
                    classroom.submit_live(session, course=ctx.course, module=module, session_id=joined,
                                          user_id=user.id, answers=answers, key=key)
                st.session_state[f"sent:{scope}"] = True
                st.rerun()
            except InputError:
                st.error(ctx.t("join.not_open"))
        return
    if live.open_test == "poll" and live.poll_item:
        item = module.items[live.poll_item]
        scope = f"poll:{joined}:{item.id}"
        with ctx.db() as session:
            if classroom.has_answered(session, session_id=joined, user_id=user.id, kind="poll", poll_item=item.id):
                st.session_state[f"sent:{scope}"] = True
        if st.session_state.get(f"sent:{scope}"):
            st.success(ctx.t("join.sent"))
            return
        key = attempt_key(scope)
        with st.form(f"form:{scope}"):
            answer = ask(ctx, item, seed=key, key=f"{scope}:answer")
            sent = st.form_submit_button(ctx.t("study.submit_test"), type="primary")
        if sent and answer not in (None, []):
            with ctx.write() as session:
                classroom.submit_live(session, course=ctx.course, module=module, session_id=joined,
                                      user_id=user.id, answers={item.id: answer}, key=key)
            st.session_state[f"sent:{scope}"] = True
            st.rerun()
        return
    if live.current_section == module.exercise.id:
        st.subheader(module.exercise.title)
        st.markdown(module.exercise.body)
        return
    section = module.section(live.current_section) if live.current_section else None
    if section is None:
        st.info(ctx.t("join.waiting"))
        return
    st.subheader(section.title)
    st.markdown(section.body)


follow()

import streamlit as st

from engine import learning
from engine.app import state
from engine.app.i18n import number
from engine.app.quizview import ask, attempt_key, feedback, next_attempt
from engine.errors import InputError

ctx = state.current()
user = state.require(ctx, "learner")
course = ctx.course
modules = {m.id: m for m in course.modules}
if st.session_state.get("study_module") not in modules:
    st.session_state["study_module"] = course.modules[0].id
module_id = st.selectbox(ctx.t("study.module"), list(modules), key="study_module",
                         format_func=lambda m: f"{number(ctx.lang, modules[m].number)}. {modules[m].title}")
module = modules[module_id]
with ctx.db() as session:
    record = learning.load_record(session, user_id=user.id, module_id=module.id)
step = learning.next_step(module, record, course.post_test_attempts)
st.title(module.title)


def refusing(call):
    """call(), with a refused action shown on the page instead of a traceback (and None returned)."""
    try:
        return call()
    except InputError as exc:
        st.error(ctx.t("study.refused"))
        state.log.warning("refused: %s", exc)
        return None


def write(action):
    """Run one write in its own transaction; a refused action is shown, never a traceback."""
    def run():
        with ctx.write() as session:
            return action(session)
    return refusing(run)


def test_form(kind: str) -> None:
    items = module.pre_test if kind == "pre" else module.post_test
    scope = f"{kind}:{module.id}"
    key = attempt_key(scope)
    with st.form(f"form:{scope}"):
        answers = {item.id: ask(ctx, item, seed=key, key=f"{scope}:{item.id}", number=n)
                   for n, item in enumerate(items, start=1)}
        sent = st.form_submit_button(ctx.t("study.submit_test"), type="primary")
    if sent:
        if any(answers[i.id] in (None, []) for i in items):
            st.warning(ctx.t("study.answer_all"))
            return
        # Read and graded first, then written under the lock (its own transactions); a resend is answered
        # from the read.
        done = refusing(lambda: learning.submit_test_now(ctx.factory, course=course, module=module, user_id=user.id,
                                                         kind=kind, answers=answers, key=key))
        if done is not None:
            # The key is kept until the learner chooses to try again: a second click, or a resend after a
            # dropped connection, carries the same key and finds this attempt already kept.
            st.session_state.pop(f"retake:{module.id}", None)
            st.rerun()


# 1. Pre-test: taken once; its score stays hidden until the post-test.
if record.pre is None:
    st.subheader(ctx.t("study.pre_title"))
    st.info(ctx.t("study.pre_intro", count=number(ctx.lang, len(module.pre_test))))
    test_form("pre")
    st.stop()
st.caption(ctx.t("study.pre_done"))

# 2. Sections in order; the ones read stay open for review; checks give feedback at once, retries unlimited.
for n, section in enumerate(module.sections, start=1):
    label = f"{number(ctx.lang, n)}. {section.title}"
    if not learning.section_open(module, record, section.id):
        st.caption(f"🔒 {label}")
        continue
    done = section.id in record.completed
    current = step.kind == "section" and step.section_id == section.id
    if current and section.id not in record.opened:
        write(lambda s, sid=section.id: learning.open_section(s, user_id=user.id, module_id=module.id, section_id=sid))
    with st.expander(("✓ " if done else "") + label, expanded=current):
        st.markdown(section.body)
        st.divider()
        st.markdown(f"**{ctx.t('study.checks')}**")
        for item in section.checks:
            with st.form(f"check:{module.id}:{item.id}"):
                answer = ask(ctx, item, seed=f"{user.id}:{item.id}", key=f"check:{module.id}:{item.id}")
                sent = st.form_submit_button(ctx.t("study.check"))
            if sent and answer not in (None, []):
                key = attempt_key(f"check:{item.id}")
                if write(lambda s, i=item, a=answer, k=key, sid=section.id: learning.submit_check(
                        s, course=course, module=module, user_id=user.id, section_id=sid,
                        item_id=i.id, answer=a, key=k)) is not None:
                    next_attempt(f"check:{item.id}")
                    st.rerun()
            if item.id in record.last_check:
                given, right = record.last_check[item.id]
                feedback(ctx, item, given, right, reveal_key=False)
if step.kind == "section":
    st.stop()

# 3. The exercise: the learner's own plan, saved as they type, editable later.
st.subheader(module.exercise.title)
with st.expander(ctx.t("study.exercise_brief"), expanded=step.kind == "exercise"):
    st.markdown(module.exercise.body)
for item in module.exercise.items:
    widget = f"exercise:{module.id}:{item.id}"
    st.session_state.setdefault(widget, record.exercise.get(item.id, ""))

    def save(item_id=item.id, widget=widget):
        write(lambda s: learning.save_exercise(s, module=module, user_id=user.id, item_id=item_id,
                                               text=st.session_state[widget]))

    st.text_area(item.stem, key=widget, on_change=save, max_chars=20_000)
    if record.exercise.get(item.id, "").strip():
        st.caption(ctx.t("study.saved"))
        if item.guidance:
            st.info(item.guidance)
if step.kind == "exercise":
    st.button(ctx.t("study.save_exercise"), key=f"save:{module.id}")
    st.stop()

# 4. Post-test: the pass mark and attempts from course.yaml; the best score counts.
st.subheader(ctx.t("study.post_title"))
if record.posts:
    best = record.best_post
    st.metric(ctx.t("study.best_score"), number(ctx.lang, best.percent) + "%",
              delta=None if record.pre is None else number(ctx.lang, best.percent - record.pre.percent) + "%")
    st.caption(ctx.t("study.pre_score", score=number(ctx.lang, record.pre.percent) + "%"))
    latest = record.posts[-1]
    with st.expander(ctx.t("study.review_attempt")):
        for n, item in enumerate(module.post_test, start=1):
            st.markdown(f"**{number(ctx.lang, n)}.** {item.stem}")
            feedback(ctx, item, latest.answers.get(item.id), latest.correct.get(item.id), reveal_key=True)
left = course.post_test_attempts - len(record.posts)
if step.kind == "done":
    st.success(ctx.t("study.passed", mark=number(ctx.lang, module.pass_mark) + "%"))
elif step.kind == "no_attempts_left":
    st.error(ctx.t("study.no_attempts"))
else:
    st.info(ctx.t("study.post_intro", mark=number(ctx.lang, module.pass_mark) + "%",
                  left=number(ctx.lang, left)))
    if not record.posts or st.session_state.get(f"retake:{module.id}"):
        test_form("post")
    elif st.button(ctx.t("study.try_again"), key=f"retake:{module.id}:button"):
        next_attempt(f"post:{module.id}")
        st.session_state[f"retake:{module.id}"] = True
        st.rerun()

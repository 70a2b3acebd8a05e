"""Drawing items as widgets. The key and the feedback are drawn only for items already answered."""

from __future__ import annotations

import uuid

import streamlit as st

from engine.content.model import Item
from engine.quiz import shuffled


def option_label(ctx, item: Item, option_id: str) -> str:
    if item.type == "true_false":
        return ctx.t(f"quiz.{option_id}")
    option = item.option(option_id)
    return option.text if option else option_id


def ask(ctx, item: Item, *, seed: str, key: str, number: int | None = None):
    """Widgets for one item; returns the answer as the grader takes it (None when unanswered)."""
    stem = f"**{number}.** {item.stem}" if number is not None else item.stem
    st.markdown(stem)
    if item.type == "short_text":
        return st.text_area(ctx.t("quiz.your_answer"), key=key, label_visibility="collapsed")
    ids = [o.id for o in shuffled(item, seed)]
    if item.type == "multiple":
        st.caption(ctx.t("quiz.choose_all"))
        return [oid for oid in ids if st.checkbox(option_label(ctx, item, oid), key=f"{key}:{oid}")]
    return st.radio(ctx.t("quiz.choose_one"), ids, index=None, key=key, label_visibility="collapsed",
                    format_func=lambda oid: option_label(ctx, item, oid))


def feedback(ctx, item: Item, answer, correct: bool | None, *, reveal_key: bool) -> None:
    """After an answer: right or not, and the feedback of each option chosen. `reveal_key` also shows the
    right option (after a test attempt); a knowledge check keeps it hidden so a retry still means something."""
    chosen = [] if answer is None else [answer] if isinstance(answer, str) else list(answer)
    if correct is None:
        if item.guidance:
            st.info(item.guidance)
        return
    (st.success if correct else st.error)(ctx.t("quiz.right") if correct else ctx.t("quiz.not_right"))
    for option in item.options:
        if option.id in chosen or (reveal_key and option.id in item.key and item.type != "true_false"):
            mark = "✓" if option.id in item.key else "✗"
            st.markdown(f"{mark} **{option_label(ctx, item, option.id)}** — {option.feedback}")


def attempt_key(scope: str) -> str:
    """The idempotency key of the form now on screen: made once, kept across reruns and double clicks,
    replaced only after its submission was kept."""
    name = f"attempt_key:{scope}"
    if name not in st.session_state:
        st.session_state[name] = str(uuid.uuid4())
    return st.session_state[name]


def next_attempt(scope: str) -> None:
    st.session_state.pop(f"attempt_key:{scope}", None)

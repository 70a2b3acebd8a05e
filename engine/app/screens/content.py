import streamlit as st

from engine.app import state
from engine.app.i18n import number
from engine.content import validate

ctx = state.current()
state.require(ctx, "admin")
st.title(ctx.t("content.title"))
st.caption(ctx.t("content.version", version=ctx.course.version))
problems = validate(ctx.settings.content_root)
if problems:
    st.warning(ctx.t("content.problems", count=number(ctx.lang, len(problems))))
    st.code("\n".join(str(p) for p in problems), language=None)
else:
    st.success(ctx.t("content.valid"))
st.dataframe([
    {ctx.t("content.modules"): f"{number(ctx.lang, m.number)}. {m.title}",
     ctx.t("content.sections"): number(ctx.lang, len(m.sections)),
     ctx.t("content.items"): number(ctx.lang, len(m.items)),
     ctx.t("content.minutes"): number(ctx.lang, m.minutes)}
    for m in ctx.course.modules
], hide_index=True, width="stretch")

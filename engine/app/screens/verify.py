import streamlit as st

from engine import views
from engine.app import state
from engine.app.i18n import day
from engine.app.usertext import md

ctx = state.current()
st.title(ctx.t("verify.title"))
with st.form("verify"):
    code = st.text_input(ctx.t("verify.code"), key="verify_code", max_chars=32)
    submitted = st.form_submit_button(ctx.t("verify.submit"))
if submitted and code.strip():
    with ctx.db() as session:
        found = views.verify_certificate(session, code)
    if found is None:
        st.error(ctx.t("verify.invalid"))
    else:
        name_km, name_latin, issued = found
        name = name_km if ctx.lang == "km" or not name_latin else name_latin
        st.success(ctx.t("verify.valid", name=md(name), course=ctx.course.title, date=day(ctx.lang, issued)))

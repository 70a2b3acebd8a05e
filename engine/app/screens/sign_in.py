import streamlit as st

from engine import accounts
from engine.app import state

ctx = state.current()
st.title(ctx.t("sign_in.title"))
with st.form("sign_in"):
    login = st.text_input(ctx.t("sign_in.login"), key="login")
    password = st.text_input(ctx.t("sign_in.password"), type="password", key="password")
    submitted = st.form_submit_button(ctx.t("sign_in.submit"), type="primary")
if submitted:
    if not login.strip() or not password:
        st.warning(ctx.t("sign_in.missing"))
    else:
        with ctx.db() as session:
            user = accounts.authenticate(session, login=login, password=password)
            token = accounts.open_session(session, user=user, days=ctx.settings.session_days) if user else None
        if token is None:
            st.error(ctx.t("sign_in.failed"))
        else:
            st.session_state["token"] = token
            state.remember(token, ctx.settings.session_days)
            st.session_state["signed_in_now"] = True
            st.session_state.pop("lang", None)  # the user's own language applies from now on
            st.rerun()

import streamlit as st

from engine import accounts
from engine.app import state
from engine.app.i18n import number
from engine.errors import Throttled

ctx = state.current()
st.title(ctx.t("sign_in.title"))
with st.form("sign_in"):
    login = st.text_input(ctx.t("sign_in.login"), key="login")
    password = st.text_input(ctx.t("sign_in.password"), type="password", key="password")
    submitted = st.form_submit_button(ctx.t("sign_in.submit"), type="primary")
if submitted:
    st.session_state.pop("password", None)  # the password is not kept in this tab's state after the attempt
    if not login.strip() or not password:
        st.warning(ctx.t("sign_in.missing"))
    else:
        # None behind a proxy on this machine (and not a str under AppTest): then only the per-login limit applies.
        client = getattr(st.context, "ip_address", None)
        client = client if isinstance(client, str) else None
        try:
            signed = accounts.sign_in(ctx.factory, login=login, password=password,
                                      days=ctx.settings.session_days, client=client)
        except Throttled as exc:
            st.error(ctx.t("sign_in.throttled", minutes=number(ctx.lang, exc.minutes)))
            signed = None
        else:
            if signed is None:
                st.error(ctx.t("sign_in.failed"))
        if signed is not None:
            token = signed[1]
            st.session_state["token"] = token
            state.remember(token, ctx.settings.session_days)
            st.session_state["signed_in_now"] = True
            st.session_state.pop("lang", None)  # the user's own language applies from now on
            st.rerun()

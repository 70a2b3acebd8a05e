import streamlit as st

from engine import accounts
from engine.app import state
from engine.app.i18n import number
from engine.errors import FieldError, Throttled
from engine.places import province_name

ctx = state.current()
user = state.require(ctx)
st.title(ctx.t("profile.title"))
rows = [
    ("profile.name_km", user.full_name_km), ("profile.name_latin", user.full_name_latin),
    ("profile.role", ctx.t(f"roles.{user.role}")), ("profile.province", province_name(user.province_code, ctx.lang)),
    ("profile.institution", user.institution), ("profile.position", user.position),
]
for key, value in rows:
    st.text(f"{ctx.t(key)}: {value or ctx.t('common.none')}")

# A temporary password from a trainer or a roster import is the learner's to replace.
st.subheader(ctx.t("profile.change_title"))
if st.session_state.pop("password_changed_now", False):
    st.success(ctx.t("profile.password_changed"))
with st.form("change_password", clear_on_submit=True):
    current = st.text_input(ctx.t("profile.current_password"), type="password", key="pw_current")
    new = st.text_input(ctx.t("profile.new_password"), type="password", key="pw_new")
    again = st.text_input(ctx.t("register.password_again"), type="password", key="pw_again")
    sent = st.form_submit_button(ctx.t("profile.change_submit"))
if sent:
    try:
        if new != again:
            raise FieldError("password", "password_mismatch", "the two passwords differ")
        token = accounts.change_password(ctx.factory, user_id=user.id, current=current, new=new,
                                         days=ctx.settings.session_days)
    except Throttled as exc:
        st.error(ctx.t("sign_in.throttled", minutes=number(ctx.lang, exc.minutes)))
    except FieldError as exc:
        st.error(ctx.t("profile.wrong_current") if exc.code == "wrong_current" else ctx.t(
            "register.problem", field=ctx.t("profile.new_password"), reason=ctx.t(f"register.err_{exc.code}")))
    else:
        st.session_state["token"] = token  # this tab stays signed in; every other sign-in has ended
        state.remember(token, ctx.settings.session_days)  # written to the cookie on the next run
        st.session_state["password_changed_now"] = True
        st.rerun()

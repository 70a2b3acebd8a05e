import streamlit as st

from engine import accounts
from engine.app import state
from engine.errors import FieldError
from engine.places import province_codes, province_name
from engine.store.base import ORG_TYPES, SEXES

ctx = state.current()
st.title(ctx.t("register.title"))
st.caption(ctx.t("register.intro"))
with st.form("register"):
    code = st.text_input(ctx.t("register.enrol_code"), key="reg_code", max_chars=32)
    name_km = st.text_input(ctx.t("profile.name_km"), key="reg_name_km", max_chars=200)
    name_latin = st.text_input(ctx.t("profile.name_latin"), key="reg_name_latin", max_chars=200)
    sex = st.radio(ctx.t("users.sex"), SEXES, index=None, key="reg_sex", format_func=lambda s: ctx.t(f"sex.{s}"))
    province = st.selectbox(ctx.t("profile.province"), province_codes(), index=None, key="reg_province",
                            format_func=lambda c: province_name(c, ctx.lang))
    org_type = st.selectbox(ctx.t("register.org_type"), ORG_TYPES, index=None, key="reg_org",
                            format_func=lambda o: ctx.t(f"org.{o}"))
    institution = st.text_input(ctx.t("profile.institution"), key="reg_institution", max_chars=300)
    position = st.text_input(ctx.t("profile.position"), key="reg_position", max_chars=200)
    username = st.text_input(ctx.t("register.username"), key="reg_username", max_chars=40)
    phone = st.text_input(ctx.t("register.phone"), key="reg_phone", max_chars=16)
    password = st.text_input(ctx.t("sign_in.password"), type="password", key="reg_password")
    again = st.text_input(ctx.t("register.password_again"), type="password", key="reg_password_again")
    sent = st.form_submit_button(ctx.t("register.submit"), type="primary")
if sent:
    try:
        if password != again:
            raise FieldError("password", "password_mismatch", "the two passwords differ")
        if sex is None or org_type is None:
            raise FieldError("sex" if sex is None else "org_type", "required", "choose one")
        profile = accounts.Profile(full_name_km=name_km, full_name_latin=name_latin, sex=sex, province_code=province,
                                   org_type=org_type, institution=institution, position=position, language=ctx.lang)
        with ctx.write() as session:
            user = accounts.register(session, enrol_code=code, username=username, phone=phone or None,
                                     password=password, profile=profile)
            token = accounts.open_session(session, user=user, days=ctx.settings.session_days)
    except FieldError as exc:
        st.error(ctx.t("register.problem", field=ctx.t(f"register.field_{exc.field}"),
                       reason=ctx.t(f"register.err_{exc.code}")))
    else:
        st.session_state["token"] = token
        state.remember(token, ctx.settings.session_days)
        st.session_state["signed_in_now"] = True
        st.rerun()

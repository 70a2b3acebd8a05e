import streamlit as st

from engine.app import state
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

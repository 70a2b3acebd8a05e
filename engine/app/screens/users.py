import streamlit as st

from engine import views
from engine.app import state
from engine.app.i18n import number
from engine.places import province_name

ctx = state.current()
state.require(ctx, "admin")
st.title(ctx.t("users.title"))
with ctx.db() as session:
    counts = views.users_by_role(session)
    people = views.user_list(session)
    rows = [
        {ctx.t("users.name"): u.full_name_km, ctx.t("users.username"): u.username,
         ctx.t("users.role"): ctx.t(f"roles.{u.role}"), ctx.t("users.sex"): ctx.t(f"sex.{u.sex}"),
         ctx.t("users.province"): province_name(u.province_code, ctx.lang)}
        for u in people
    ]
cols = st.columns(max(len(counts), 1))
for col, (role, count) in zip(cols, sorted(counts.items()), strict=False):
    col.metric(ctx.t(f"roles.{role}"), number(ctx.lang, count))
st.dataframe(rows, hide_index=True, width="stretch")

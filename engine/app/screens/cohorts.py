import streamlit as st

from engine import views
from engine.app import state
from engine.app.i18n import number
from engine.app.usertext import md
from engine.places import province_codes, province_name

ctx = state.current()
user = state.require(ctx, "trainer", "facilitator", "coordinator", "admin")
st.title(ctx.t("cohorts.title"))
province = kind = None
if user.role in ("coordinator", "admin"):
    left, right = st.columns(2)
    province = left.selectbox(ctx.t("cohorts.province"), province_codes(), index=None, key="filter_province",
                              format_func=lambda c: province_name(c, ctx.lang), placeholder=ctx.t("cohorts.any"))
    kind = right.selectbox(ctx.t("cohorts.kind"), ["tot", "provincial", "self_study"], index=None,
                           key="filter_kind", format_func=lambda k: ctx.t(f"cohorts.kind_{k}"),
                           placeholder=ctx.t("cohorts.any"))
with ctx.db() as session:
    cohorts = views.cohort_summaries(session, user=user, province=province, kind=kind)
if not cohorts:
    st.info(ctx.t("cohorts.none"))
else:
    def pct(value):
        return ctx.t("common.none") if value is None else number(ctx.lang, value) + "%"

    st.dataframe([
        {ctx.t("cohorts.name"): c.name, ctx.t("cohorts.kind"): ctx.t(f"cohorts.kind_{c.kind}"),
         ctx.t("cohorts.province"): province_name(c.province_code, ctx.lang),
         ctx.t("cohorts.parent"): c.parent_name or ctx.t("common.none"),
         ctx.t("cohorts.learners"): number(ctx.lang, c.learners),
         ctx.t("cohorts.active_7d"): number(ctx.lang, c.active_7d),
         ctx.t("cohorts.mean_pre"): pct(c.mean_pre), ctx.t("cohorts.mean_post"): pct(c.mean_post)}
        for c in cohorts
    ], hide_index=True, width="stretch")

# A learner who forgot their password: their trainer sets a temporary one and tells them in person.
if user.role in ("trainer", "admin"):
    with ctx.db() as session:
        learners = views.my_learners(session, user=user)
    if learners:
        with st.expander(ctx.t("cohorts.reset_title")), st.form("reset_password"):
            shown = {r[0]: f"{r[1]} ({r[2]}) · {r[3]}" for r in learners}
            names = {r[0]: r[1] for r in learners}
            chosen = st.selectbox(ctx.t("cohorts.reset_learner"), list(shown), index=None, key="reset_learner",
                                  format_func=shown.get)
            new_password = st.text_input(ctx.t("cohorts.reset_password"), type="password", key="reset_password")
            if st.form_submit_button(ctx.t("cohorts.reset_submit")) and chosen:
                from engine import accounts
                from engine.errors import FieldError, NotAllowed
                from engine.store.models import User

                try:
                    with ctx.write() as session:
                        accounts.reset_password(session, by=session.get(User, user.id), learner_id=chosen,
                                                new_password=new_password)
                    st.success(ctx.t("cohorts.reset_done", name=md(names[chosen])))
                except FieldError as exc:
                    st.error(ctx.t(f"register.err_{exc.code}"))
                except NotAllowed:
                    st.error(ctx.t("app.not_allowed"))

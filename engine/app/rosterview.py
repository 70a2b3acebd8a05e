"""The roster controls of the cohort page: enrolment code, add one learner, import a file. Every row
goes through engine.roster, so one learner typed in is checked exactly like a file of a hundred."""

from __future__ import annotations

import csv
import io

import streamlit as st

from engine import roster
from engine.app.i18n import day, number
from engine.app.usertext import md
from engine.errors import FieldError
from engine.places import province_codes, province_name
from engine.store.base import ORG_TYPES, SEXES
from engine.store.models import Cohort


def problem_text(ctx, p: roster.RosterProblem) -> str:
    reason = ctx.t(f"roster.err_{p.code}")
    if p.row is None:
        return reason
    return ctx.t("roster.at", row=number(ctx.lang, p.row), column=md(p.column) or "—", reason=reason)


def show_created(ctx, result: roster.ImportResult) -> None:
    st.success(ctx.t("roster.imported", n=number(ctx.lang, len(result.learners))))
    st.caption(ctx.t("roster.passwords_once"))
    st.dataframe([{ctx.t("users.name"): r.full_name_km, ctx.t("users.username"): r.username,
                   ctx.t("roster.temporary_password"): r.temporary_password} for r in result.learners],
                 hide_index=True, width="stretch")


def run_import(ctx, cohort_id: str, parsed: roster.ParsedRoster) -> None:
    if parsed.problems:
        st.error(ctx.t("roster.refused", n=number(ctx.lang, len(parsed.problems))))
        st.markdown("\n".join(f"- {problem_text(ctx, p)}" for p in parsed.problems))
        return
    try:
        with ctx.write() as session:
            result = roster.import_roster(session, cohort_id=cohort_id, parsed=parsed)
    except roster.RosterRefused as exc:
        st.error(ctx.t("roster.refused", n=number(ctx.lang, len(exc.problems))))
        st.markdown("\n".join(f"- {problem_text(ctx, p)}" for p in exc.problems))
        return
    show_created(ctx, result)


def one_learner_csv(values: dict[str, str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(values))
    writer.writerow(list(values.values()))
    return buffer.getvalue().encode("utf-8")


def roster_controls(ctx, cohort_id: str) -> None:
    with ctx.db() as session:
        cohort = session.get(Cohort, cohort_id)
        code, expires = cohort.enrol_code, cohort.enrol_code_expires_at
    with st.expander(ctx.t("roster.code_title"), expanded=False):
        if code:
            st.markdown(f"**{code}**")
            st.caption(ctx.t("roster.code_expires", date=day(ctx.lang, expires)) if expires
                       else ctx.t("roster.code_no_expiry"))
        days = st.number_input(ctx.t("roster.code_days"), min_value=1, max_value=365, value=30, key="code_days")
        if st.button(ctx.t("roster.code_new"), key="code_new"):
            try:
                with ctx.write() as session:
                    roster.set_enrol_code(session, cohort_id=cohort_id, days=int(days))
                st.rerun()
            except FieldError as exc:
                st.error(str(exc))
    with st.expander(ctx.t("roster.add_title")), st.form("add_learner", clear_on_submit=False):
        values = {
            "full_name_km": st.text_input(ctx.t("profile.name_km"), key="add_name_km"),
            "full_name_latin": st.text_input(ctx.t("profile.name_latin"), key="add_name_latin"),
            "sex": st.selectbox(ctx.t("users.sex"), SEXES, key="add_sex", format_func=lambda s: ctx.t(f"sex.{s}")),
            "province": st.selectbox(ctx.t("profile.province"), province_codes(), index=None, key="add_province",
                                     format_func=lambda c: province_name(c, ctx.lang)) or "",
            "org_type": st.selectbox(ctx.t("register.org_type"), ORG_TYPES, key="add_org",
                                     format_func=lambda o: ctx.t(f"org.{o}")),
            "institution": st.text_input(ctx.t("profile.institution"), key="add_institution"),
            "position": st.text_input(ctx.t("profile.position"), key="add_position"),
            "phone": st.text_input(ctx.t("register.phone"), key="add_phone"),
        }
        if st.form_submit_button(ctx.t("roster.add_submit")):
            run_import(ctx, cohort_id, roster.parse_roster(one_learner_csv(values), "form.csv"))
    with st.expander(ctx.t("roster.import_title")):
        st.caption(ctx.t("roster.columns"))
        upload = st.file_uploader(ctx.t("roster.file"), type=["csv", "txt", "xlsx"], key="roster_file")
        if upload is not None:
            parsed = roster.parse_roster(upload.getvalue(), upload.name)
            if parsed.problems:
                run_import(ctx, cohort_id, parsed)
            else:
                st.info(ctx.t("roster.ready", n=number(ctx.lang, len(parsed.rows))))
                if st.button(ctx.t("roster.import_submit"), key="roster_import", type="primary"):
                    run_import(ctx, cohort_id, parsed)

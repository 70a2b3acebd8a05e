"""The Streamlit entry point: build the context, pick the language, route each role to its pages."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    # `streamlit run engine/app/main.py` runs this file as a script: make `engine` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import streamlit as st

from engine import accounts
from engine.app import state
from engine.app.i18n import LANGUAGE_NAMES
from engine.app.style import inject_style
from engine.app.usertext import md

# Not "pages/": Streamlit would treat that folder as an old-style multipage app and run pages without main.
PAGES = Path(__file__).resolve().parent / "screens"

# Which pages each role sees, by menu group. The pages check the role again themselves.
ROLE_PAGES = {
    "learner": {"section_learn": ["course_map", "study", "results", "certificate", "join"]},
    "trainer": {"section_teach": ["cohorts", "cohort", "cascade", "report", "classroom", "session"]},
    "facilitator": {"section_teach": ["classroom", "session", "cohorts", "cohort", "report"]},
    "coordinator": {"section_teach": ["cohorts", "cohort", "cascade", "report", "classroom", "session"],
                    "section_admin": ["national", "bundles"]},
    "admin": {"section_teach": ["cohorts", "cohort", "cascade", "report", "classroom", "session"],
              "section_admin": ["national", "users", "content", "bundles"]},
}
ICONS = {
    "sign_in": ":material/login:", "register": ":material/person_add:", "verify": ":material/verified:",
    "course_map": ":material/map:", "study": ":material/school:", "results": ":material/insights:",
    "certificate": ":material/workspace_premium:", "cohorts": ":material/groups:", "cohort": ":material/monitoring:",
    "cascade": ":material/account_tree:", "classroom": ":material/co_present:", "users": ":material/manage_accounts:",
    "content": ":material/menu_book:", "profile": ":material/person:", "report": ":material/print:",
    "join": ":material/qr_code_scanner:", "session": ":material/cast_for_education:",
    "bundles": ":material/upload_file:", "national": ":material/public:",
}


def page(ctx: state.Context, name: str, default: bool = False) -> st.Page:
    return st.Page(PAGES / f"{name}.py", title=ctx.t(f"nav.{name}"), icon=ICONS[name], url_path=name,
                   default=default)


def sign_out() -> None:
    ctx = state.current()
    with ctx.db() as session:
        accounts.close_session(session, st.session_state.pop("token", None))
    st.session_state.pop("_sala_ctx", None)
    st.session_state["signed_out_now"] = True
    st.session_state["cookie_to_clear"] = True
    st.rerun()


def _language_changed() -> None:
    ctx = state.current()
    choice = st.session_state["lang_choice"]
    st.session_state["lang"] = choice
    if ctx.user is not None:
        from engine.store.models import User

        with ctx.db() as session:
            session.get(User, ctx.user.id).language = choice


def language_switch(ctx: state.Context) -> None:
    st.session_state["lang_choice"] = ctx.lang  # the widget follows the language, never the reverse
    st.sidebar.radio(ctx.t("app.language"), options=list(LANGUAGE_NAMES), format_func=LANGUAGE_NAMES.get,
                     key="lang_choice", horizontal=True, on_change=_language_changed)


def navigation(ctx: state.Context):
    """The menu of the signed-in role (or the public pages), and the page it opens on."""
    if ctx.user is None:
        home = page(ctx, "sign_in", default=True)
        return st.navigation([home, page(ctx, "register"), page(ctx, "verify")]), home
    groups: dict[str, list[st.Page]] = {}
    home = None
    for group, names in ROLE_PAGES[ctx.user.role].items():
        groups[ctx.t(f"nav.{group}")] = [page(ctx, n, default=home is None and i == 0) for i, n in enumerate(names)]
        home = home or groups[ctx.t(f"nav.{group}")][0]
    groups[ctx.t("nav.section_account")] = [
        page(ctx, "profile"), page(ctx, "verify"),
        st.Page(sign_out, title=ctx.t("nav.sign_out"), icon=":material/logout:", url_path="sign_out"),
    ]
    return st.navigation(groups), home


def main() -> None:
    st.set_page_config(page_title="Sala", page_icon=":material/school:", layout="wide")
    inject_style()
    ctx = state.build_context()
    st.session_state["_sala_ctx"] = ctx
    st.sidebar.markdown(f"**{ctx.t('app.name')}** · {ctx.course.title}")
    language_switch(ctx)
    if ctx.user is not None:
        st.sidebar.caption(ctx.t("app.signed_in_as", name=md(ctx.user.full_name_km or ctx.user.username)))
    code = st.query_params.get("code")
    if code and st.session_state.get("joined_code") != code.upper():
        # The room's QR code opens /?code=XXXXX: the code is kept through signing in, and through a reload.
        st.session_state["join_code"] = code
    menu, home = navigation(ctx)
    learner = ctx.user is not None and ctx.user.role == "learner"
    moved = st.session_state.pop("signed_in_now", False) | st.session_state.pop("signed_out_now", False)
    if learner and st.session_state.get("join_code") and not st.session_state.get("join_redirected"):
        st.session_state["join_redirected"] = True
        st.switch_page("screens/join.py")
    if moved:
        st.switch_page(home)  # the page the user was on belongs to the other menu
    state.browser_memory()
    menu.run()


main()

import streamlit as st

from engine import bundle
from engine.app import state
from engine.app.i18n import number
from engine.app.usertext import md
from engine.errors import InputError

ctx = state.current()
state.require(ctx, "admin", "coordinator")
st.title(ctx.t("bundles.title"))
st.caption(ctx.t("bundles.intro"))
upload = st.file_uploader(ctx.t("bundles.file"), type=["zip"], key="bundle_file")
if upload is not None and st.button(ctx.t("bundles.import"), type="primary", key="bundle_import"):
    try:
        with ctx.write() as session:
            report = bundle.import_bundle(session, upload.getvalue(), name=upload.name)
    except InputError as exc:
        st.error(ctx.t("bundles.refused"))
        if isinstance(exc, bundle.BundleRefused):
            st.caption(ctx.t(f"bundles.why_{exc.check}"))  # which check failed; the detail is in the log
        state.log.warning("refused: %s", exc)
    else:
        if report.conflicts:
            st.error(ctx.t("bundles.conflicts", n=number(ctx.lang, len(report.conflicts))))
            # A conflict names values the bundle carries (a username, a phone): shown as text, never as Markdown.
            st.markdown("\n".join(f"- {md(line)}" for line in report.conflicts))
        else:
            st.success(ctx.t("bundles.done", inserted=number(ctx.lang, sum(report.inserted.values())),
                             skipped=number(ctx.lang, sum(report.skipped_identical.values()))))

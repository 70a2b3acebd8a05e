"""Text that people typed (names, institutions, positions, cohort names, file headers), made safe to show.

Streamlit renders the body of st.markdown, st.caption, st.title, st.success and their kin as Markdown,
and plotly draws chart labels with a subset of HTML (<b>, <a href>, <br>). A learner named `**Dara**`
or `<b>x</b>` must be shown as those very characters, never as formatting, a link or a tag. Plain
widgets (st.text, st.dataframe, st.data_editor, selectbox options) show text as text already; HTML built
by hand escapes with html.escape where it is built (certificate, answer sheets).
"""

from __future__ import annotations

import html
import re

# CommonMark lets a backslash escape any ASCII punctuation; Streamlit's additions (colours ":red[x]",
# icons ":material/x:", LaTeX "$x$", "~~x~~") are made of punctuation too. Escape it all.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def md(text: str | None) -> str:
    """`text` for a Markdown body: every punctuation character backslash-escaped, line breaks made spaces
    (a name must not start a heading or a list). Khmer and other letters pass unchanged."""
    return _PUNCTUATION.sub(r"\\\1", _LINE_BREAKS.sub(" ", text or ""))


def chart_label(text: str | None) -> str:
    """`text` for a plotly label or hover text: HTML-escaped, which plotly shows as the characters."""
    return html.escape(text or "", quote=False)

"""Page-wide style: Khmer-friendly line height and a layout that fits a 360 px phone. The Khmer web
font itself is declared once, in .streamlit/config.toml (theme.fontFaces)."""

import streamlit as st

CSS = """
<style>
/* Khmer stacks vowels and subscripts above and below the line: give it room. */
.stMarkdown p, .stMarkdown li { line-height: 1.9; }
@media (max-width: 480px) {
  .block-container { padding-left: 0.75rem; padding-right: 0.75rem; }
  h1 { font-size: 1.7rem !important; }
  h2, h3 { font-size: 1.25rem !important; }
}
</style>
"""


def inject_style() -> None:
    st.html(CSS)

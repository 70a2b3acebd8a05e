"""Sala: the course delivery engine of NASLA's *Innovation for Local Administration*.

The engine computes (content, quiz, store, analytics); `engine.app` renders. Nothing outside
`engine.app` imports Streamlit.
"""

__version__ = "0.1.0"

"""Evaluation page. A stub run by st.navigation; the page is tutor/ui/evaluation_page.py (imported once per process)."""

from tutor.ui.evaluation_page import render

render()

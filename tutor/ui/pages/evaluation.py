"""Evaluation page. The thin entry script st.navigation runs; the page is tutor/ui/evaluation_page.py (imported once per process)."""

from tutor.ui.evaluation_page import render

render()

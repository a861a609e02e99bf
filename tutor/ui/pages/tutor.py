"""Tutor page (students). The thin entry script st.navigation runs; the page is tutor/ui/chat_page.py (imported once per process)."""

from tutor.ui.chat_page import render

render()

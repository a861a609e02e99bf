"""Tutor page (students). A stub run by st.navigation; the page is tutor/ui/chat_page.py (imported once per process)."""

from tutor.ui.chat_page import render

render()

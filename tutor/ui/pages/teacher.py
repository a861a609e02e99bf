"""Teacher page. A stub run by st.navigation; the page is tutor/ui/teacher_page.py (imported once per process)."""

from tutor.ui.teacher_page import render

render()

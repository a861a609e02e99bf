"""Teacher page. The thin entry script st.navigation runs; the page is tutor/ui/teacher_page.py (imported once per process)."""

from tutor.ui.teacher_page import render

render()

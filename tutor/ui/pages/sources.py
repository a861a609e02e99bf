"""Sources page. A stub run by st.navigation; the page is tutor/ui/sources_page.py (imported once per process)."""

from tutor.ui.sources_page import render

render()

"""Sources page. The thin entry script st.navigation runs; the page is tutor/ui/sources_page.py (imported once per process)."""

from tutor.ui.sources_page import render

render()

"""The app's entry: page config, navigation, first-start indexing (in the background), warm-up.

``streamlit run streamlit_app.py`` calls :func:`main`. Pages are two-line scripts in
tutor/ui/pages/ (so ``AppTest.switch_page("tutor/ui/pages/teacher.py")`` reaches them) that call
``render()`` of tutor/ui/*_page.py; the coach page is tutor/ui/coach_page.py's ``render``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tutor.ui import first_start, resources

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"
ICON = HERE / "assets" / "icon.png"


def pages() -> dict[str, list[st.Page]]:
    students = [
        # The default page is served at "/" only; the hidden twin answers /tutor (a bookmark, a
        # link) with the same page instead of Streamlit's "Page not found" dialog.
        st.Page(PAGES / "tutor.py", title="Tutor", icon=":material/forum:", url_path="chat", default=True),
        st.Page(PAGES / "tutor.py", title="Tutor", icon=":material/forum:", url_path="tutor", visibility="hidden"),
        st.Page(PAGES / "sources.py", title="Sources", icon=":material/menu_book:", url_path="sources"),
    ]
    from tutor.ui import coach_page

    students.append(st.Page(coach_page.render, title="Essay & source coach", icon=":material/edit_note:",
                            url_path="coach"))
    staff = [
        st.Page(PAGES / "teacher.py", title="Teacher", icon=":material/lock:", url_path="teacher"),
        st.Page(PAGES / "evaluation.py", title="Evaluation", icon=":material/analytics:", url_path="evaluation"),
    ]
    return {"Learn": students, "Staff": staff}


def main() -> None:
    # A file the app serves itself: a ":material/…:" page icon makes the browser fetch an SVG
    # from fonts.gstatic.com, the one request that would leave the school's network.
    st.set_page_config(page_title="Socratic history tutor", page_icon=str(ICON), layout="centered")
    nav = st.navigation(pages())
    settings = resources.app_settings()
    # Never waits: a first start indexes the course in a background thread; every page shows how far.
    first_start.show_progress(settings)
    try:
        nav.run()
    finally:
        # After the page is built, so loading the model never delays the first screen; not while
        # the first start indexes (the index it would build is about to change).
        indexing = first_start.current(settings)
        if indexing is None or not indexing.running:
            resources.warm_once(settings)

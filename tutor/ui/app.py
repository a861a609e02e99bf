"""The app's entry: page config, navigation, first-start indexing, background warm-up.

``streamlit run streamlit_app.py`` calls :func:`main`. Pages are two-line scripts in
tutor/ui/pages/ (so ``AppTest.switch_page("tutor/ui/pages/teacher.py")`` reaches them) that call
``render()`` of tutor/ui/*_page.py; the coach page is tutor/ui/coach_page.py's ``render``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tutor.ui import resources

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"


def pages() -> dict[str, list[st.Page]]:
    students = [
        st.Page(PAGES / "tutor.py", title="Tutor", icon=":material/forum:", url_path="tutor", default=True),
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
    st.set_page_config(page_title="Socratic history tutor", page_icon=":material/school:", layout="centered")
    nav = st.navigation(pages())
    settings = resources.app_settings()
    resources.ensure_corpus(settings)
    try:
        nav.run()
    finally:
        # After the page is built, so loading the model never delays the first screen.
        resources.warm_once(settings)

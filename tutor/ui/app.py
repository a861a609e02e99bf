"""The app's entry: page config, navigation, first-start indexing, background warm-up.

``streamlit run streamlit_app.py`` calls :func:`main`. Pages are files in this package (so
``AppTest.switch_page("tutor/ui/teacher_page.py")`` reaches them); the coach page
(tutor/ui/coach_page.py) is listed when that module exists.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import streamlit as st

from tutor.ui import resources

HERE = Path(__file__).resolve().parent


def _coach_page() -> st.Page | None:
    """The coach page if its module is installed: its ``render()`` if it has one, else the file."""
    if importlib.util.find_spec("tutor.ui.coach_page") is None:
        return None
    path = HERE / "coach_page.py"
    if not path.is_file():
        return None
    look = {"title": "Essay & source coach", "icon": ":material/edit_note:", "url_path": "coach"}
    source = path.read_text(encoding="utf-8")
    # A module that only defines render() shows nothing when run as a script: call render().
    if "__main__" not in source and re.search(r"^def render\(\s*\)", source, re.M):
        module = importlib.import_module("tutor.ui.coach_page")
        return st.Page(module.render, **look)
    return st.Page(path, **look)


def pages() -> dict[str, list[st.Page]]:
    students = [
        st.Page(HERE / "chat_page.py", title="Tutor", icon=":material/forum:", url_path="tutor", default=True),
        st.Page(HERE / "sources_page.py", title="Sources", icon=":material/menu_book:", url_path="sources"),
    ]
    coach = _coach_page()
    if coach is not None:
        students.append(coach)
    staff = [
        st.Page(HERE / "teacher_page.py", title="Teacher", icon=":material/lock:", url_path="teacher"),
        st.Page(HERE / "evaluation_page.py", title="Evaluation", icon=":material/analytics:", url_path="evaluation"),
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

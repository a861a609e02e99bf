"""The app's entry: page config, navigation, first-start indexing (in the background), warm-up.

``streamlit run streamlit_app.py`` calls :func:`main`. Pages are two-line scripts in
tutor/ui/pages/ (so ``AppTest.switch_page("tutor/ui/pages/teacher.py")`` reaches them) that call
``render()`` of tutor/ui/*_page.py; the coach page (tutor/ui/coach_page.py) is listed when that
module exists.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

import streamlit as st

from tutor.ui import first_start, resources

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"


@lru_cache(maxsize=1)
def _coach_target() -> Path | Callable[[], None] | None:
    """What the coach page runs: its ``render`` (a module that only defines it), its file, or None."""
    if importlib.util.find_spec("tutor.ui.coach_page") is None:
        return None
    path = HERE / "coach_page.py"
    if not path.is_file():
        return None
    source = path.read_text(encoding="utf-8")
    # A module that only defines render() shows nothing when run as a script: call render().
    if "__main__" not in source and re.search(r"^def render\(\s*\)", source, re.M):
        return importlib.import_module("tutor.ui.coach_page").render
    return path


def _coach_page() -> st.Page | None:
    target = _coach_target()
    if target is None:
        return None
    return st.Page(target, title="Essay & source coach", icon=":material/edit_note:", url_path="coach")


def pages() -> dict[str, list[st.Page]]:
    students = [
        # The default page is served at "/" only; the hidden twin answers /tutor (a bookmark, a
        # link) with the same page instead of Streamlit's "Page not found" dialog.
        st.Page(PAGES / "tutor.py", title="Tutor", icon=":material/forum:", url_path="chat", default=True),
        st.Page(PAGES / "tutor.py", title="Tutor", icon=":material/forum:", url_path="tutor", visibility="hidden"),
        st.Page(PAGES / "sources.py", title="Sources", icon=":material/menu_book:", url_path="sources"),
    ]
    coach = _coach_page()
    if coach is not None:
        students.append(coach)
    staff = [
        st.Page(PAGES / "teacher.py", title="Teacher", icon=":material/lock:", url_path="teacher"),
        st.Page(PAGES / "evaluation.py", title="Evaluation", icon=":material/analytics:", url_path="evaluation"),
    ]
    return {"Learn": students, "Staff": staff}


def main() -> None:
    st.set_page_config(page_title="Socratic history tutor", page_icon=":material/school:", layout="centered")
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

"""The essay coach page through AppTest: the fact check is on the page, sentence by sentence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

SEED = Path(__file__).parent / "fixtures" / "seed_essays" / "names-no-dates.md"

pytestmark = pytest.mark.usefixtures("fresh_app")  # tests/conftest.py


def _page() -> None:
    from tutor.ui.coach_page import essay_coach_page

    essay_coach_page()


@pytest.fixture
def app_home(tutor_home, corpus_home, embedder) -> Path:
    shutil.copytree(corpus_home, tutor_home, dirs_exist_ok=True)
    return tutor_home


def test_the_page_shows_the_seed_essays_misattribution_with_its_correction(app_home):
    at = AppTest.from_function(_page, default_timeout=180).run()
    at.text_area(key="coach_essay_text").set_value(SEED.read_text(encoding="utf-8"))
    at.button(key="coach_essay_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "Fact check" in shown
    assert "grey blur" in shown and "Sukhanov" in shown and "source: hist-underestimation" in shown
    assert at.metric[0].value == "Level 3"

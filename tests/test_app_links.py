"""Issue 11 items 9 and 11 in AppTest: a reply's [n] markers open the cited passage on the Sources
page, and students see no server paths."""

from __future__ import annotations

import re
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from tutor.settings import get_settings
from tutor.ui.render import link_citations, escape_markdown, redact_paths

APP = "../streamlit_app.py"
LINK = re.compile(r"\[\\\[(\d+)\\\]\]\((sources\?[^)]+)\)")


pytestmark = pytest.mark.usefixtures("fresh_app")  # tests/conftest.py


@pytest.fixture
def app_home(tutor_home, corpus_home):
    shutil.copytree(corpus_home, tutor_home, dirs_exist_ok=True)
    return tutor_home


def test_only_markers_a_citation_backs_become_links():
    text = escape_markdown("Lenin warned [1], see [2] and [x].")
    out = link_citations(text, [{"n": 1, "doc_id": "source-lenin-testament", "passage_id": "a::b::0001"}])
    assert LINK.findall(out) == [("1", "sources?doc=source-lenin-testament&passage=a%3A%3Ab%3A%3A0001")]
    assert "see \\[2\\] and \\[x\\]" in out


def test_a_reply_links_its_markers_to_the_passages_it_cites(app_home):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.chat_input[0].set_value("Why was Lenin's Testament not acted on?").run()
    assert not at.exception, [e.value for e in at.exception]

    reply = [m for m in at.chat_message if m.name == "assistant"][-1]
    links = LINK.findall(reply.markdown[0].value)
    assert links, reply.markdown[0].value
    cited = at.session_state["tutor_session"].history[-1]["citations"]
    by_n = {c["n"]: c for c in cited}
    for n, href in links:
        assert f"doc={by_n[int(n)]['doc_id']}" in href and "passage=" in href
    # The same links after a rerun (the reply replayed from the history), and under the sources.
    at.run()
    replayed = [m for m in at.chat_message if m.name == "assistant"][-1]
    assert LINK.findall(replayed.markdown[0].value) == links
    assert any("Read it in Sources" in m.value for m in replayed.markdown)


def test_the_sources_page_opens_the_linked_document_at_the_cited_passage(app_home, corpus_store):
    passage = next(p for p in corpus_store.chunks("source-lenin-testament"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["doc"] = "source-lenin-testament"
    at.query_params["passage"] = passage.id
    at.run()
    at.switch_page("tutor/ui/pages/sources.py").run()
    assert not at.exception, [e.value for e in at.exception]

    assert at.selectbox[0].value == "source-lenin-testament"
    assert any(c.value == "The passage cited in the chat" for c in at.caption)
    words = passage.text.split()[:6]
    assert any(escape_markdown(" ".join(words)) in m.value for m in at.markdown)


def test_students_see_no_server_path_on_the_evaluation_page(app_home):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("tutor/ui/pages/evaluation.py").run()
    assert not at.exception
    home = str(get_settings().home)
    shown = [e.value for kind in ("info", "markdown", "caption", "warning", "error")
             for e in getattr(at, kind)]
    assert shown and not [s for s in shown if home in s.replace("\\", "")]
    assert any("reports" in s for s in shown)


def test_error_text_for_the_browser_names_no_server_path():
    message = ("Cannot open the Chroma store at /srv/tutor/home/chroma (disk I/O error). Check "
               "C:\\tutor\\home\\tutor.sqlite3 and TUTOR_HOME=/srv/tutor/home.")
    assert redact_paths(message) == ("Cannot open the Chroma store at …/chroma (disk I/O error). Check "
                                     "…/tutor.sqlite3 and TUTOR_HOME=…/home.")
    assert redact_paths("see https://example.org/a/b and 1/2 of it") == "see https://example.org/a/b and 1/2 of it"

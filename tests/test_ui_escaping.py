"""Document, student and model text never renders as Markdown in the app (issue 11 item 5).

Two layers: an AppTest run of the Teacher page over a document whose title and heading carry a
remote image (a tracking beacon) and a link, rendered with a real CommonMark parser to check no
<img> or <a> comes out; and a guard over tutor/ui that fails when a label or Markdown call
interpolates a value that is neither escaped nor known to be a number or fixed text.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from tutor.settings import PROJECT_ROOT, reset_settings

APP = "../streamlit_app.py"
PASSWORD = "correct horse battery staple"
BEACON = "http://127.0.0.1:9/beacon.png"
HOSTILE = (
    "---\nid: beacon-notes\n"
    f'title: "Notes ![beacon]({BEACON}) [click me](http://evil.example/t)"\n'
    "kind: event\nperiod: [1921, 1921]\n---\n"
    f"## Kronstadt ![b2]({BEACON}?h) [more](http://evil.example/h)\n"
    "In March 1921 the sailors of Kronstadt rose against the Bolsheviks while the Tenth Congress met "
    "in Moscow. The rising was crushed, and the same congress banned factions inside the party.\n"
).encode()


def rendered(label: str) -> str:
    """The HTML a CommonMark renderer makes of a label (Streamlit's labels are GitHub Markdown)."""
    return MarkdownIt("commonmark").render(label)


def assert_inert(label: str) -> None:
    html = rendered(label)
    assert "<img" not in html and "<a " not in html, (label, html)


pytestmark = pytest.mark.usefixtures("fresh_app")  # tests/conftest.py


def test_the_commonmark_check_itself_sees_an_unescaped_beacon():
    with pytest.raises(AssertionError):
        assert_inert(f"Passage 1 — ![beacon]({BEACON})")
    with pytest.raises(AssertionError):
        assert_inert("Delete “[click](http://evil.example)”")


def test_teacher_page_labels_show_a_hostile_title_and_heading_as_text(tutor_home, corpus_home, monkeypatch):
    shutil.copytree(corpus_home, tutor_home, dirs_exist_ok=True)
    monkeypatch.setenv("TUTOR_TEACHER_PASSWORD", PASSWORD)
    reset_settings()
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("tutor/ui/pages/teacher.py").run()
    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    at.file_uploader[0].set_value([("beacon.md", HOSTILE, "text/markdown")])
    at.run()
    next(b for b in at.button if b.label == "Index these files").click().run()
    assert not at.exception
    assert at.status[0].label.startswith("Done: 1 added"), at.status[0].label

    at.selectbox[0].select("beacon-notes").run()
    assert not at.exception

    passages = [e.label for e in at.expander if e.label.startswith("Passage")]
    assert passages and any("Kronstadt" in p and "b2" in p for p in passages), passages
    delete = [c.label for c in at.checkbox if c.label.startswith("Delete")]
    assert delete and "beacon" in delete[0]
    progress_lines = [m.value for m in at.markdown if "beacon" in m.value]
    for label in passages + delete + progress_lines + [s.label for s in at.status]:
        assert_inert(label)
    # What the teacher reads is still the text, with its brackets.
    assert "!\\[beacon\\]" in delete[0]


# -- the guard ---------------------------------------------------------------------------------
# Streamlit calls whose first argument (or label/body/text) is rendered as Markdown.
MARKDOWN_CALLS = {
    "markdown", "write", "caption", "title", "header", "subheader", "info", "warning", "error", "success",
    "toast", "expander", "status", "update", "checkbox", "toggle", "radio", "button", "download_button",
    "form_submit_button", "link_button", "page_link", "popover", "text_input", "text_area", "number_input",
    "selectbox", "multiselect", "slider", "select_slider", "file_uploader", "chat_input", "progress",
    "metric", "spinner", "tabs",
}
MARKDOWN_KEYWORDS = {"label", "body", "text", "help"}
# Calls whose result is safe Markdown: escaping helpers, and numbers.
SAFE_CALLS = {"escape_markdown", "highlight", "source_heading", "source_link", "link_citations", "reply_markdown",
              "int", "len", "round"}
# Interpolated values that are numbers or the app's own fixed text, each checked by hand.
KNOWN_SAFE = {
    "done", "total", "done + 1", "n", "card.covered", "card.total", "p.met", "p.resolved", "icon",
    "issue.status", "label", "session.stage_number", "record.version", "kind", "name.capitalize()",
    "service.summary(results)", "STATUS_ICONS.get(result.status, '')", "len(results) - len(failed)",
    "section.get('n_cases', '?')", "saved", "report.kind", "report.path.name", "report.path.parent.name",
    "saved.parent.name", "KIND_LABELS.get(record.kind, record.kind)", "record.filename", "c['n']",
    "' · '.join(bits)", "ctx.settings.max_upload_mb", "service.closed_message()", "auth.closed_message()",
    "LEVEL_LABELS[level]",
}


def _unsafe_parts(node: ast.AST) -> list[str]:
    """The parts of a Markdown argument that could carry unescaped text."""
    if isinstance(node, ast.Constant):
        return []
    if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        if name in SAFE_CALLS:
            return []
    if isinstance(node, ast.JoinedStr):
        return [p for v in node.values if isinstance(v, ast.FormattedValue) for p in _unsafe_parts(v.value)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _unsafe_parts(node.left) + _unsafe_parts(node.right)
    if isinstance(node, ast.IfExp):
        return _unsafe_parts(node.body) + _unsafe_parts(node.orelse)
    text = ast.unparse(node)
    return [] if text in KNOWN_SAFE else [text]


def unescaped_markdown(source: str) -> list[tuple[int, str, str]]:
    """(line, call, expression) for each value reaching Markdown unescaped in a module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in MARKDOWN_CALLS):
            continue
        # st.progress's first argument is its value; its text is the text= keyword.
        first = node.args[:1] if node.func.attr != "progress" else []
        args = [a for a in first if not isinstance(a, ast.Starred)]
        args += [k.value for k in node.keywords if k.arg in MARKDOWN_KEYWORDS]
        for arg in args:
            if node.func.attr == "tabs" and isinstance(arg, ast.List):
                parts = [p for el in arg.elts for p in _unsafe_parts(el)]
            else:
                parts = _unsafe_parts(arg)
            found.extend((node.lineno, node.func.attr, p) for p in parts)
    return found


def test_the_guard_catches_an_unescaped_label():
    bad = "with st.expander(f'Passage {n} — {heading}'):\n    st.checkbox(title)\n    st.markdown(doc.text)\n"
    assert [(c, e) for _, c, e in unescaped_markdown(bad)] == [
        ("expander", "heading"), ("checkbox", "title"), ("markdown", "doc.text")]
    good = "st.expander(f'Passage {n} — {escape_markdown(heading)}')\nst.markdown(highlight(t, q))\n"
    assert unescaped_markdown(good) == []


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "tutor" / "ui").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_markdown_label_in_the_ui_is_escaped(path: Path):
    problems = unescaped_markdown(path.read_text(encoding="utf-8"))
    assert not problems, "\n".join(
        f"{path.name}:{line}: st.{call}(…{expr}…) — wrap it in escape_markdown() "
        "(or add it to KNOWN_SAFE in this test if it is a number or the app's own text)"
        for line, call, expr in problems)

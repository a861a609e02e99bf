"""The app's plain functions: escaping and highlighting, source filters, the timeline, report charts."""

from __future__ import annotations

import json

import pytest

from tutor.lessons import load_lessons
from tutor.manifest import DocumentRecord
from tutor.settings import DEFAULT_CORPUS
from tutor.store import Passage
from tutor.ui import evaluation as ev
from tutor.ui.render import escape_markdown, highlight, mode_banner, move_caption, source_heading
from tutor.ui.sources import document_rows, filter_documents, reading_sections, timeline_chart, timeline_frame


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>", "[click](javascript:alert(1))", "**bold** _it_ `code`", "$x^2$ :smile: :red[hi]",
    "# heading\n- item\n1. first", "![img](http://x/y.png)", "&lt;b&gt; | a | b |",
])
def test_escaped_text_has_no_active_markdown(text):
    out = escape_markdown(text)
    # Every special character is preceded by a backslash: nothing can start formatting.
    for i, ch in enumerate(out):
        if ch in "<>[]()*_`$:#-!&|" and (i == 0 or out[i - 1] != "\\"):
            assert out[i - 1] == "\\" and out[i - 2] == "\\", (text, out, i)
    # Only backslashes and the word joiner that keeps a URL from becoming a live link are added.
    assert out.replace("\\", "").replace("\u2060", "") == text.replace("\\", "")


def test_highlight_bolds_the_quoted_span_across_line_breaks_and_escapes_the_rest():
    passage = "On 3 April 1922 Stalin became\nGeneral Secretary. *Lenin* agreed [at first]."
    out = highlight(passage, "Stalin became General Secretary.")
    assert out.count("**") == 2
    assert "**Stalin became\nGeneral Secretary\\.**" in out
    assert "\\*Lenin\\*" in out and "\\[at first\\]" in out


def test_highlight_without_a_findable_quote_escapes_everything():
    assert highlight("Plain *text*.", "not there at all") == "Plain \\*text\\*\\."
    assert highlight(". E. H. Carr wrote.", None).startswith("…E\\.")


def test_headings_captions_and_banner():
    c = {"n": 2, "title": "Lenin's [Testament]", "kind": "source-note", "page": 4}
    assert source_heading(c) == "**\\[2\\] Lenin\\'s \\[Testament\\]** · source note · p\\. 4"
    assert move_caption({"move": {"label": "hint 2 of 3"}, "mode": "offline"}) == "hint 2 of 3"
    assert move_caption({"move": {"label": "checking a misconception"}, "mode": "gpt-4.1-mini"}) == \
        "checking a misconception · gpt-4.1-mini"
    assert mode_banner("offline").startswith("Offline course-materials tutor")
    assert "gpt-4.1-mini" in mode_banner("gpt-4.1-mini")


def _record(doc_id, kind, period):
    return DocumentRecord(doc_id, doc_id.title(), kind, f"{doc_id}.md", "", "h", 1, ("a", "b"),
                          {"period": period} if period else {}, "2025-01-01")


def test_documents_filter_by_kind_and_overlapping_period():
    rows = document_rows([_record("ban", "event", ["1921", "1921"]), _record("enrol", "event", ["1924", "1926"]),
                          _record("stalin", "person", ["1917", "1929"]), _record("notes", "other", None)])
    assert [r["id"] for r in filter_documents(rows, ["event"], (1925, 1927))] == ["enrol"]
    assert [r["id"] for r in filter_documents(rows, [], (1922, 1923))] == ["stalin", "notes"]
    assert len(filter_documents(rows)) == 4


def test_reading_shows_chunk_overlap_once_and_section_headings():
    def p(i, text, section):
        return Passage(f"d::{i}", "d", "D", "event", text, section=section, metadata={"chunk_index": i})
    chunks = [p(1, "and then the second part. The end of the section.", "One"),
              p(0, "First part of the section and then the second part.", "One"),
              p(2, "New section text.", "Two")]
    assert reading_sections(chunks) == [("One", None, "First part of the section and then the second part."),
                                        (None, None, "The end of the section."),
                                        ("Two", None, "New section text.")]


def test_timeline_frame_and_chart_from_the_corpus():
    events = load_lessons(DEFAULT_CORPUS).timeline
    frame = timeline_frame(events, years=(1924, 1924))
    assert len(frame) >= 3 and list(frame["start"]) == sorted(frame["start"])
    assert "Lenin dies at Gorki" in set(frame["event"])
    spec = timeline_chart(frame).to_dict()
    assert len(spec["layer"]) == 2  # bars for periods, dots for dates


def test_report_metrics_split_quality_from_latency_and_chart_side_by_side(settings):
    result = {"k": 5, "n_questions": 2, "methods": {"hybrid": {"recall@5": 0.9, "mrr": 0.8, "p50_ms": 20.0, "n": 40},
                                                     "bm25": {"recall@5": 0.85, "mrr": 0.7, "p50_ms": 2.0, "n": 40}}}
    frame = ev.metrics_frame(result)
    assert set(frame[~frame["latency"]]["metric"]) == {"recall@5", "mrr"}
    assert set(frame[frame["latency"]]["metric"]) == {"p50_ms"}
    assert [c.to_dict()["encoding"]["xOffset"]["field"] for c in ev.comparison_charts(frame)] == ["method", "method"]
    assert ev.sections(result) == {"retrieval": result}
    assert list(ev.sections({"tutor": {"pass_rate": 1.0}, "judge": {"skipped": "x"}})) == ["tutor", "judge"]


def test_reports_are_found_newest_first_and_bad_files_skipped(settings):
    folder = ev.reports_dir(settings) / "run-1"
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(json.dumps({"tutor": {"pass_rate": 0.5, "rates": {"x": 0.5}}}))
    (ev.reports_dir(settings) / "broken.json").write_text("{oops")
    report = ev.latest_report(settings)
    assert report.kind == "tutor" and report.path == folder / "report.json"
    assert list(ev.tutor_frame(report.data["tutor"])["check"]) == ["x", "ALL (pass rate)"]


def test_highlight_finds_a_quote_shortened_with_ellipses():
    passage = "Ideas mattered. Socialism in one country, stated by Stalin in December 1924, offered a goal. Next."
    assert highlight(passage, "Socialism in one country, stated by Stalin…") == (
        "Ideas mattered\\. **Socialism in one country, stated by Stalin** in December 1924, offered a goal\\. Next\\.")
    assert highlight(passage, "… stated by Stalin … offered a goal").count("**") == 4

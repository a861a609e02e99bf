"""A handout no card covers is taught by its argument (issue 23, item 2): the plan's key points
are the sentence that answered the student and the handout's claims about causes and effects,
and its questions climb from where to look to a near-answer, never trivia like "What happened
in France in the summer of 1927?" (the handout's France is Clemenceau's, in 1917)."""

from __future__ import annotations

from pathlib import Path

from tutor.pedagogy.argument import is_claim
from tutor.pedagogy.compose import sentences
from tutor.pedagogy.passage_plan import argument_plan
from tutor.retrieval import tokenize

TEACHER_DOCS = Path(__file__).resolve().parent.parent / "corpus" / "eval" / "teacher_documents"


def _text(name: str) -> str:
    return (TEACHER_DOCS / name).read_text(encoding="utf-8").split("---", 2)[2].strip()


def test_a_plan_teaches_the_handouts_claims_before_its_background():
    for name in ("war-scare-1927.md", "kronstadt-1921.md", "shakhty-trial-1928.md"):
        points = argument_plan(_text(name), None)
        assert len(points) >= 3, name
        claims = [is_claim(p.sentence) for p in points]
        assert sum(claims) >= 3, (name, [p.sentence for p in points])
        # Claims come first; background only tops the plan up.
        assert claims == sorted(claims, reverse=True), name


def test_the_sentence_that_answered_the_student_leads_the_plan():
    text = _text("war-scare-1927.md")
    answer = next(s for s in sentences(text) if s.startswith("On 12 May 1927 British police raided"))
    points = argument_plan(text, None, focus=text, answer=answer)
    assert " ".join(tokenize(points[0].sentence)) == " ".join(tokenize(answer))
    assert sum(is_claim(p.sentence) for p in points[1:]) >= 2


def test_no_plan_point_is_a_heading_or_one_of_the_handouts_own_questions():
    text = _text("war-scare-1927.md") + "\n\n## Questions to discuss\n\nWhy did the war scare matter to Stalin?\n"
    headings = {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")}
    for p in argument_plan(text, None):
        assert not p.sentence.rstrip().endswith("?"), p.sentence
        assert not any(p.sentence.startswith(h) for h in headings), p.sentence


def test_a_hint_names_the_handouts_topic_rather_than_quoting_one_of_its_words():
    from tutor.pedagogy.argument import argument_hints

    text = _text("war-scare-1927.md")
    point = next(p for p in argument_plan(text, None) if p.sentence.startswith(("Either way the war scare", "It strengthened")))
    hints = argument_hints(point, "Real danger or useful fear?", "The war scare of 1927")
    assert not any("“scare”" in h for h in hints), hints
    assert "the war scare of 1927" in hints[0], hints


def test_the_course_documents_are_known_from_the_store_without_reading_each_file(corpus_home, embedder, monkeypatch):
    """`tutor ask` reads no course file the store holds unchanged; the ids are the same."""
    import tutor.documents
    from tutor.pedagogy.passage_plan import PassagePlanner
    from tutor.settings import load_settings
    from tutor.store import Store

    settings = load_settings(home=corpus_home)
    read_each = PassagePlanner(None, settings.corpus_dir).course_docs
    assert len(read_each) >= 30
    calls = []
    real = tutor.documents.read_document
    monkeypatch.setattr(tutor.documents, "read_document", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    assert PassagePlanner(Store(settings, embedder), settings.corpus_dir).course_docs == read_each
    assert calls == []


def test_a_view_the_handout_weighs_is_not_made_a_key_point_even_when_it_answered():
    text = _text("war-scare-1927.md")
    answer = next(s for s in sentences(text) if s.startswith("Some officials in the Soviet foreign commissariat"))
    points = argument_plan(text, None, focus=text, answer=answer)
    assert all(not p.sentence.startswith("Some officials") for p in points), [p.sentence for p in points]


def test_middle_hints_give_half_the_claim_instead_of_a_generic_cause_or_effect_question():
    from tutor.pedagogy.argument import argument_hints
    from tutor.pedagogy.salience import analyse

    cases = {
        "On 12 April 1927 Chiang Kai-shek turned on the communists in Shanghai, ending Moscow's hopes in China.":
            "The handout says that on 12 April 1927 Chiang Kai-shek turned on the communists in Shanghai. "
            "What does it say came of that?",
        "The leadership answered with a campaign about the danger of war.":
            "According to the handout, how did the leadership respond, and to what?",
        "In February 1921 hunger and cuts in rations led to strikes and protest meetings in the factories of Petrograd.":
            "According to the handout, what did hunger and cuts in rations lead to?",
        "The engineers were accused of wrecking: deliberately damaging machinery and flooding mines.":
            "The handout says that the engineers were accused of wrecking. What does it give to explain or show this?",
    }
    for sentence, middle in cases.items():
        [point] = analyse(sentence)
        assert argument_hints(point, None, "A handout")[1] == middle


def test_a_clause_quoted_in_a_hint_keeps_a_name_capitalised_and_lowers_a_common_word():
    from tutor.pedagogy.argument import _clause

    assert _clause("Stalin sided with Bukharin.") == "Stalin sided with Bukharin"
    assert _clause("Self-criticism was never meant to reach the top.") == "self-criticism was never meant to reach the top"

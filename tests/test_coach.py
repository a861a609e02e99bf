"""The essay coach and the source-evaluation coach: bands, issues, no rewriting, facts, stages, CLI."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Iterator

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from rapidfuzz import fuzz
from typer.testing import CliRunner

from tutor.services import build
from tutor.coach.bands import LEVELS
from tutor.coach.essay import EssayCoach, EssayError, echoes, split_question
from tutor.coach.features import split_sentences
from tutor.coach.issues import ISSUE_KINDS
from tutor.coach.source import STAGES, STEP_KEYS, SourceCoach, SourceError, SourceInfo, SourceSession
from tutor.errors import ModelUnavailable
from tutor.lessons import load_lessons
from tutor.settings import PROJECT_ROOT, reset_settings

CORPUS = PROJECT_ROOT / "corpus"
ESSAYS = CORPUS / "eval" / "essays"
OWN_ESSAYS = Path(__file__).parent / "fixtures" / "essays"


@pytest.fixture(scope="module")
def lessons():
    return load_lessons(CORPUS)


@pytest.fixture(scope="module")
def offline_coach(lessons):
    return EssayCoach(lessons)


@pytest.fixture
def retriever(corpus_store):
    from tutor.retrieval import Retriever

    return Retriever(corpus_store)


@pytest.fixture
def coach(lessons, retriever):
    return EssayCoach(lessons, retriever)


def samples(folder: Path) -> list[tuple[str, str, dict]]:
    return [(md.stem, md.read_text(encoding="utf-8"), json.loads(md.with_suffix(".json").read_text(encoding="utf-8")))
            for md in sorted(folder.glob("*.md"))]


def accuracy(coach: EssayCoach, folder: Path) -> tuple[int, int, int, list[str]]:
    exact = within = 0
    rows = []
    items = samples(folder)
    for name, text, side in items:
        a = coach.analyse(text, question=side["question"])
        gap = abs(LEVELS.index(a.level) - LEVELS.index(side["level"]))
        exact += gap == 0
        within += gap <= 1
        rows.append(f"{name}: expected {side['level']} {side['marks']}, got {a.level} {a.marks}")
    return exact, within, len(items), rows


# -- bands ---------------------------------------------------------------------------------
def test_project_essays_get_their_bands(offline_coach):
    exact, within, n, rows = accuracy(offline_coach, ESSAYS)
    print("\n".join(rows))
    print(f"essay bands (corpus/eval/essays): exact {exact}/{n}, within one level {within}/{n}")
    assert n == 9
    assert exact >= 8 and within == n


def test_own_essays_check_the_banding_is_not_overfitted(offline_coach):
    """Essays written for the coach's tests, not used to set its thresholds."""
    exact, within, n, rows = accuracy(offline_coach, OWN_ESSAYS)
    print("\n".join(rows))
    print(f"essay bands (tests/fixtures/essays): exact {exact}/{n}, within one level {within}/{n}")
    assert n >= 3
    assert within == n and exact >= n - 1


def test_marks_sit_inside_the_level_band_and_overlap_the_expected_range(offline_coach):
    bands = {"L1": (1, 5), "L2": (6, 10), "L3": (11, 15), "L4": (16, 20), "L5": (21, 25)}
    for name, text, side in samples(ESSAYS):
        a = offline_coach.analyse(text, question=side["question"])
        low, high = a.marks
        assert bands[a.level][0] <= low <= high <= bands[a.level][1], name
        if a.level == side["level"]:
            assert low <= side["marks"][1] and high >= side["marks"][0], (name, a.marks, side["marks"])


def test_every_level_is_explained_descriptor_by_descriptor(offline_coach):
    text = (ESSAYS / "l3-general-secretary.md").read_text(encoding="utf-8")
    a = offline_coach.analyse(text)
    assert {d["level"] for d in a.descriptors} == {"L2", "L3", "L4", "L5"}
    assert all(d["why"] for d in a.descriptors)
    # The ladder: every descriptor up to the band is met, and one of the next level is not.
    met_up_to = [d["met"] for d in a.descriptors if LEVELS.index(d["level"]) <= LEVELS.index(a.level)]
    assert all(met_up_to)
    nxt = LEVELS[LEVELS.index(a.level) + 1]
    assert not all(d["met"] for d in a.descriptors if d["level"] == nxt)
    assert a.band_line.startswith(f"This reads as Level {a.level[1]}")


# -- issues --------------------------------------------------------------------------------
INTRO = ("Stalin's position as General Secretary was an important reason for his victory, but the mistakes of his "
         "rivals also mattered, and this essay will weigh them.")
EVIDENCED = ("As General Secretary from April 1922 Stalin controlled appointments, so the local secretaries who chose "
             "congress delegates owed him their jobs. This mattered because at the 14th Congress in December 1925 "
             "only the Leningrad delegation backed Zinoviev. This shows that the post gave Stalin majorities.")
COUNTER = ("However, Trotsky's mistakes also helped Stalin. Trotsky missed Lenin's funeral on 27 January 1924 and said "
           "nothing at the 13th Congress in May 1924. This was less important than the post, because even when "
           "Trotsky fought in 1926 and 1927 he lost every vote.")
CONCLUSION = ("In conclusion, the view is largely valid. The post was more important than Trotsky's mistakes, because "
              "it meant that every opponent faced congresses that Stalin's appointees had shaped.")


def kinds(coach: EssayCoach, *paragraphs: str) -> set[str]:
    return {i["kind"] for i in coach.analyse("\n\n".join(paragraphs)).issues}


def test_a_balanced_supported_essay_has_none_of_the_structural_issues(offline_coach):
    found = kinds(offline_coach, INTRO, EVIDENCED, COUNTER, CONCLUSION)
    assert not found & {"no_counter_argument", "no_judgement", "no_conclusion", "unfinished", "narrative",
                        "wrong_date", "misattribution"}


@pytest.mark.parametrize("kind, paragraphs", [
    ("no_evidence", [INTRO, EVIDENCED, "Stalin was also very clever and people liked him. He knew how to beat the "
                                       "others and they could not stop him. Everyone was scared of him.",
                     COUNTER, CONCLUSION]),
    ("no_counter_argument", [INTRO, EVIDENCED, EVIDENCED.replace("Zinoviev", "Zinoviev and Kamenev"), CONCLUSION]),
    ("no_judgement", [INTRO, EVIDENCED, COUNTER, "In conclusion, the General Secretary post was important and "
                                                 "Trotsky's mistakes were also important. All these factors helped "
                                                 "Stalin win."]),
    ("no_conclusion", [INTRO, EVIDENCED, COUNTER]),
    ("unfinished", [INTRO, EVIDENCED, COUNTER, "In conclusion, the view is largely valid because the post"]),
    ("wrong_date", [INTRO, EVIDENCED.replace("As General Secretary from April 1922", "Made General Secretary in 1924,"),
                    COUNTER, CONCLUSION]),
    ("misattribution", [INTRO, EVIDENCED, COUNTER + " Trotsky famously called Stalin a grey blur.", CONCLUSION]),
    ("narrative", [INTRO, "In April 1922 Stalin became General Secretary. In May 1922 Lenin had his first stroke. "
                          "In January 1924 Lenin died. In May 1924 the 13th Congress met. In 1926 the United "
                          "Opposition formed.", COUNTER, CONCLUSION]),
])
def test_each_issue_kind_is_detected(offline_coach, kind, paragraphs):
    assert kind in ISSUE_KINDS
    found = kinds(offline_coach, *paragraphs)
    assert kind in found, found


def test_fact_issues_name_the_paragraph_and_come_from_timeline_and_cards(offline_coach):
    text = (ESSAYS / "l3-errors-underestimation.md").read_text(encoding="utf-8")
    issues = offline_coach.analyse(text).issues
    facts = sorted((i["kind"], i["paragraph"]) for i in issues if i["kind"] in ("wrong_date", "misattribution"))
    assert facts == [("misattribution", 2), ("wrong_date", 3), ("wrong_date", 5)]


def test_a_date_is_checked_against_its_own_event_not_a_neighbouring_one(offline_coach):
    """"At the 13th Congress in May 1924 the Testament was read" does not misdate the Testament."""
    for name in ("l4-trotsky-responsible", "l5-general-secretary"):
        issues = offline_coach.analyse((ESSAYS / f"{name}.md").read_text(encoding="utf-8")).issues
        assert not [i for i in issues if i["kind"] == "wrong_date"], name
    lone = offline_coach.facts.check("The Declaration of the 46 was written in 1925 to attack the regime.")
    assert [f.kind for f in lone] == ["wrong_date"]


# -- never rewriting -----------------------------------------------------------------------
MODEL_ESSAY = [s for s in split_sentences(" ".join((ESSAYS / "l5-general-secretary.md").read_text().split()))]
_SHORT_QUOTE = re.compile(r"[\"“‘'][^\"“”’']{0,60}[\"”’']")


def reproduced(outputs: list[str], essay: str) -> list[tuple[str, str]]:
    """Coach sentences (6+ words once short quoted phrases are removed) with partial_ratio >= 85
    against a sentence of the L5 model essay or of the student's own essay."""
    theirs = [s for s in MODEL_ESSAY + split_sentences(" ".join(essay.split())) if len(s.split()) >= 6]
    hits = []
    for text in outputs:
        for sentence in split_sentences(" ".join(text.split())):
            bare = _SHORT_QUOTE.sub(" ", sentence)
            if len(bare.split()) < 6:
                continue
            for other in theirs:
                if fuzz.partial_ratio(bare.lower(), other.lower()) >= 85:
                    hits.append((sentence, other))
    return hits


def test_the_coach_never_hands_back_essay_text(coach):
    for name, text, side in samples(ESSAYS) + samples(OWN_ESSAYS):
        a = coach.analyse(text, question=side["question"])
        conv = coach.start_coaching(a)
        for answer in ("I am not sure", "Because the 14th Congress in December 1925 showed the post mattered more",
                       "Trotsky lost in 1927", "It depended on the post because of appointments"):
            coach.respond(conv, answer)
        outputs = [a.band_line, *a.questions, *[i["message"] for i in a.issues],
                   *[t["content"] for t in conv.turns if t["role"] == "assistant"]]
        hits = reproduced(outputs, text)
        assert not hits, (name, hits[:2])


def test_the_echo_check_catches_a_rewritten_paragraph():
    essay = (ESSAYS / "l3-general-secretary.md").read_text(encoding="utf-8")
    sentences = split_sentences(" ".join(essay.split()))
    rewrite = sentences[5].replace("helped him", "really helped Stalin")
    assert echoes(f"Try this: {rewrite} What do you think?", sentences)
    assert not echoes("Which factor did the others depend on, and what evidence shows it?", sentences)


# -- chat through the engine ---------------------------------------------------------------
@pytest.fixture
def tutor(corpus_store, tutor_home):
    from tutor.engine import Tutor
    from tutor.settings import get_settings

    return build(get_settings(), store=corpus_store, chat_model=None).tutor


def test_a_wrong_date_in_a_chat_message_gets_a_correct_date_move(tutor):
    session = tutor.new_session()
    reply = tutor.reply(session, "Stalin won because Lenin died in 1925 and Trotsky missed the funeral")
    assert reply.move["kind"] == "correct_date"
    assert reply.text.rstrip().endswith("?")


def test_a_pasted_essay_gets_the_band_and_one_question_citing_a_passage(tutor):
    session = tutor.new_session()
    text = (ESSAYS / "l3-errors-underestimation.md").read_text(encoding="utf-8")
    reply = tutor.reply(session, text)
    assert reply.intent == "essay" and reply.move["kind"] == "essay_feedback"
    assert reply.move["level"] == "L3" and "wrong_date" in reply.move["issues"]
    assert reply.text.startswith("This reads as Level 3")
    assert reply.text.count("?") == 1 and reply.text.rstrip().endswith("?")
    assert len(reply.citations) == 1 and "[1]" in reply.text
    assert not [c for c in reply.checks if not c.passed], reply.checks
    assert session.history[-1]["role"] == "assistant"
    assert not reproduced([reply.text], text)


# -- with a model --------------------------------------------------------------------------
class FakeCoachModel(BaseChatModel):
    """Scripted replies; an item that is an exception is raised instead."""

    replies: list = []
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "fake-coach"

    def _next(self):
        item = self.replies[min(self.calls, len(self.replies) - 1)]
        object.__setattr__(self, "calls", self.calls + 1)
        if isinstance(item, BaseException):
            raise item
        return item

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._next()))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
        yield ChatGenerationChunk(message=AIMessageChunk(content=self._next(),
                                                         response_metadata={"finish_reason": "stop"}))


def model_tutor(corpus_store, model):
    from tutor.engine import Tutor
    from tutor.settings import get_settings

    return build(get_settings(), store=corpus_store, chat_model=model).tutor


def essay_reading(reply: str, level: str = "L2", marks: int = 8, evidence=(), errors=()) -> str:
    """The JSON a model sends for its reading of an essay (tutor.pedagogy.reading.EssayReading)."""
    return json.dumps({"level": level, "marks": marks, "evidence": list(evidence),
                       "factual_errors": [dict(zip(("text", "correction", "evidence"), e)) for e in errors],
                       "reply": reply})


def test_the_model_bands_the_essay_when_its_reading_passes_the_checks(corpus_store):
    model = FakeCoachModel(replies=[essay_reading(
        "This is Level 2: the events are right but mostly told as a story. "
        "Which event in paragraph 2 best answers the question, and why?", evidence=["In April 1922"])])
    tutor = model_tutor(corpus_store, model)
    text = (ESSAYS / "l2-narrative-1922-1929.md").read_text(encoding="utf-8")
    reply = tutor.reply(tutor.new_session(), text)
    assert reply.text.startswith("This is Level 2") and reply.mode != "offline"
    assert reply.move["level"] == "L2" and reply.move["marks"] == [8, 8] and reply.move["coach_level"] == "L2"
    assert reply.move["band_evidence"] == ["In April 1922"]


def test_the_fact_checker_adds_the_error_the_model_missed(corpus_store):
    """An essay that gives "grey blur" to Trotsky: the model bands it but lists no error; the fact
    checker adds Sukhanov's phrase, in the reply's JSON and in the notice the page shows."""
    model = FakeCoachModel(replies=[essay_reading(
        "This is Level 3: each paragraph explains a factor, with some evidence. "
        "Which factor does your conclusion weigh most, and why?", level="L3", marks=12)])
    tutor = model_tutor(corpus_store, model)
    text = (ESSAYS / "l3-errors-underestimation.md").read_text(encoding="utf-8")
    reply = tutor.reply(tutor.new_session(), text)
    assert reply.mode != "offline" and reply.move["level"] == "L3"
    added = [e for e in reply.move["factual_errors"] if e["found_by"] == "fact checker"]
    assert any("grey blur" in e["text"].lower() and "Sukhanov" in e["correction"] for e in added), added
    assert reply.notice and "Sukhanov" in reply.notice
    assert any("Sukhanov" in e["correction"] for e in reply.as_dict()["move"]["factual_errors"]), "in the JSON too"


@pytest.mark.parametrize("reading, failed", [
    (essay_reading("This is Level 2: told as a story. Which event best answers the question?", marks=17), "marks_in_band"),
    (essay_reading("This is Level 2: told as a story. Which event best answers the question?",
                   evidence=["Stalin was a genius of organisation"]), "evidence_in_essay"),
    ("This is Level 2. Which event best answers the question?", "schema"),
], ids=["marks-outside-band", "evidence-not-in-essay", "not-json"])
def test_a_reading_the_essay_does_not_support_is_refused(corpus_store, reading, failed):
    tutor = model_tutor(corpus_store, FakeCoachModel(replies=[reading]))
    text = (ESSAYS / "l2-narrative-1922-1929.md").read_text(encoding="utf-8")
    reply = tutor.reply(tutor.new_session(), text)
    assert reply.mode == "offline" and failed in reply.notice and reply.move["level"] == "L2"


@pytest.mark.parametrize("bad", [ModelUnavailable("the model's reply was cut off"),
                                 essay_reading("Here is a better paragraph: In April 1922 Stalin became General "
                                               "Secretary of the Communist Party, and in May 1922 Lenin had his first "
                                               "stroke.")])
def test_a_model_failure_or_a_rewrite_falls_back_to_the_offline_wording(corpus_store, bad):
    tutor = model_tutor(corpus_store, FakeCoachModel(replies=[bad]))
    text = (ESSAYS / "l2-narrative-1922-1929.md").read_text(encoding="utf-8")
    reply = tutor.reply(tutor.new_session(), text)
    assert reply.mode == "offline" and reply.notice and "offline essay coach" in reply.notice
    assert reply.text.startswith("This reads as Level 2") and reply.move["level"] == "L2"


# -- input handling ------------------------------------------------------------------------
def test_too_short_text_is_refused_with_a_clear_message(offline_coach):
    with pytest.raises(EssayError, match="whole essay"):
        offline_coach.analyse("Stalin won because he was General Secretary.")


def test_an_essay_pasted_as_one_block_is_split_at_its_topic_sentences(offline_coach):
    text = " ".join((ESSAYS / "l3-general-secretary.md").read_text(encoding="utf-8").split())
    a = offline_coach.analyse(text)
    assert len(a.paragraphs) >= 4 and a.paragraphs[-1]["role"] == "conclusion"
    assert any("one block" in note for note in a.notes)
    assert a.level == "L3"


def test_a_leading_exam_question_is_split_off_but_an_introduction_is_not():
    q, rest = split_question("'Stalin won because of his posts.' Assess the validity of this view.\n\nStalin ...")
    assert q and q.endswith("this view.") and rest == "Stalin ..."
    intro = (ESSAYS / "l2-unfinished-divisions.md").read_text(encoding="utf-8")
    assert split_question(intro)[0] is None


# -- the source coach ----------------------------------------------------------------------
ANSWERS = {
    "who": "Trotsky wrote it himself, as a defeated rival of Stalin living in exile",
    "when": "In 1929-30, after his deportation, looking back with hindsight on the 1920s",
    "why": "To justify his own actions and blame Stalin for tricking him",
    "audience": "The public abroad, readers in the West rather than party members",
    "tone": "Bitter and ironic; it stresses intrigue and leaves out his own hesitation",
    "content": "The funeral was on 27 January 1924, so his claim about the date fits the context "
               "but cannot prove a trick",
    "value": "It is valuable because it shows how Trotsky himself explained why he lost the power struggle",
    "limitation": "But it is limited because he wrote with hindsight and wanted to blame Stalin, so it is one-sided",
}


@pytest.fixture
def source_coach(lessons, retriever):
    return SourceCoach(lessons, retriever)


def test_the_source_coach_walks_all_four_stages_offline(source_coach):
    session = source_coach.start(source_coach.load("source-trotsky-my-life"), "why Trotsky lost the power struggle")
    assert session.step == "who" and session.turns[-1]["content"].endswith("?")
    seen_stages = [session.stage]
    for step in STEP_KEYS:
        assert session.step == step
        turn = source_coach.respond(session, ANSWERS[step])
        assert turn.text.count("?") >= 1 and turn.mode == "offline"
        assert not [c for c in turn.checks if not c.passed], (step, turn.checks)
        seen_stages.append(session.stage)
        if step == "tone":
            assert turn.step == "content" and turn.citations, "the content step brings in context"
    assert session.done and set(seen_stages) == set(STAGES)
    assert set(session.notes) == set(STEP_KEYS)
    again = SourceSession.from_dict(json.loads(json.dumps(session.to_dict())))
    assert again.done and again.notes == session.notes


def test_a_thin_answer_is_asked_again_once_and_a_misconception_is_probed(source_coach):
    session = source_coach.start(source_coach.load("source-trotsky-my-life"))
    turn = source_coach.respond(session, "him")
    assert turn.step == "who" and session.step == "who"
    turn = source_coach.respond(session, "It is biased so it is useless")
    assert session.step == "who" and "one-sided" in turn.text
    source_coach.respond(session, "Trotsky, a defeated rival in exile")
    assert session.step == "when"


def test_the_coach_never_shows_the_notes_own_evaluation(source_coach):
    info = source_coach.load("source-lenin-testament")
    assert "Limitations and debates" not in info.extract and "Value as evidence" not in info.extract
    assert "Kotkin" not in info.extract  # the authorship debate is for the student to raise
    assert info.author.startswith("Vladimir Ilyich Lenin") and info.date_human == "December 1922"


def test_a_pasted_extract_needs_a_named_origin(source_coach):
    with pytest.raises(SourceError, match="origin"):
        SourceInfo.from_paste("Comrade Stalin, having become Secretary-General, has unlimited authority.", "")
    info = SourceInfo.from_paste("Comrade Stalin, having become Secretary-General, has unlimited authority.",
                                 "Lenin, Letter to the Congress, December 1922")
    session = source_coach.start(info, "Lenin's view of Stalin")
    assert "this extract" in session.turns[0]["content"]
    turn = source_coach.respond(session, "Lenin, the leader of the party, while he was very ill")
    assert turn.step == "when" and "December 1922" in turn.text


def source_reading(reply: str, engages: bool = True, strengths=(), errors=()) -> str:
    """The JSON a model sends for its reading of a source answer (tutor.coach.source.SourceReading)."""
    return json.dumps({"engages": engages, "strengths": list(strengths),
                       "factual_errors": [dict(zip(("text", "correction", "evidence"), e)) for e in errors],
                       "reply": reply})


def test_source_model_wording_that_writes_the_evaluation_is_refused(lessons):
    model = FakeCoachModel(replies=[source_reading("Good point. This source is valuable because it is by Trotsky "
                                                   "himself. When was it written?")])
    coach = SourceCoach(lessons, None, chat_model=model)
    session = coach.start(coach.load("source-trotsky-my-life"))
    turn = coach.respond(session, ANSWERS["who"])
    assert turn.mode == "offline" and "no_evaluation_written" in (turn.notice or "") and model.calls == 2
    ok = FakeCoachModel(replies=[source_reading("Yes, his position matters. When did he write it, and what had "
                                                "happened by then?", strengths=["a defeated rival of Stalin"])])
    coach = SourceCoach(lessons, None, chat_model=ok)
    session = coach.start(coach.load("source-trotsky-my-life"))
    turn = coach.respond(session, ANSWERS["who"])
    assert turn.mode != "offline" and turn.step == "when" and ok.calls == 1


# -- CLI -----------------------------------------------------------------------------------
@pytest.fixture
def run(monkeypatch, corpus_home, embedder):
    from tutor.cli import app

    monkeypatch.setenv("TUTOR_HOME", str(corpus_home))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        reset_settings()
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


def test_cli_essay_json_shape(run, tmp_path):
    path = tmp_path / "essay.md"
    path.write_text((ESSAYS / "l2-unfinished-divisions.md").read_text(encoding="utf-8"), encoding="utf-8")
    result = run("coach", "essay", str(path), "--question", "'Divisions among Stalin's opponents were the main "
                 "reason for his victory.' Assess the validity of this view.", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["level"] == "L2" and len(data["marks"]) == 2 and data["marks"][0] <= data["marks"][1]
    assert {"kind", "paragraph", "message"} <= set(data["issues"][0])
    assert {i["kind"] for i in data["issues"]} >= {"unfinished", "no_conclusion"}
    assert data["questions"] and all(q.endswith("?") for q in data["questions"])
    assert data["reply"].endswith("?")


def test_cli_essay_reads_docx_and_refuses_other_types(run, tmp_path):
    import docx

    document = docx.Document()
    for para in (ESSAYS / "l1-trotsky-arrogant.md").read_text(encoding="utf-8").split("\n\n"):
        document.add_paragraph(para.strip())
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path / "essay.docx"
    path.write_bytes(buffer.getvalue())
    result = run("coach", "essay", str(path), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["level"] == "L1"
    bad = tmp_path / "essay.pdf"
    bad.write_bytes(b"%PDF-1.4")
    result = run("coach", "essay", str(bad))
    assert result.exit_code == 2 and ".txt, .md or .docx" in result.stderr


def test_cli_source_json_and_a_short_interactive_run(run):
    result = run("coach", "source", "source-lenin-testament", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["step"] == "who" and data["stage"] == "provenance" and data["text"].endswith("?")
    assert data["source"]["id"] == "source-lenin-testament" and data["source"]["extract"]
    result = run("coach", "source", "source-lenin-testament",
                 input="Lenin, the party's leader, dictating while ill\n\n")
    assert result.exit_code == 0 and "When was it produced" in result.stdout
    listing = run("coach", "source")
    assert "source-trotsky-my-life" in listing.stdout
    missing = run("coach", "source", "no-such-note")
    assert missing.exit_code == 2 and "No source note" in missing.stderr

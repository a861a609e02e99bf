"""The fact base and the claim checker (tutor/facts.py): every fact is supported by the document
it cites, the issue's missed statements are caught with their source, silence is not an alarm,
and the statement set holds its floors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tutor.documents import read_document
from tutor.facts import FactChecker, load_facts
from tutor.lessons import LessonError, corpus_doc_ids

from conftest import CORPUS

CLAIMS = CORPUS / "eval" / "claims.jsonl"
# CI floors (issue 14): false statements caught, true statements flagged.
FALSE_CAUGHT_FLOOR = 0.95
TRUE_FLAGGED_CEILING = 0.02


def _norm(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("–", "-")
    return re.sub(r"\s+", " ", text).strip().lower()


@pytest.fixture(scope="module")
def facts():
    return load_facts(CORPUS, corpus_doc_ids(CORPUS))


@pytest.fixture(scope="module")
def checker(facts):
    return FactChecker(facts)


@pytest.fixture(scope="module")
def doc_texts():
    texts = {}
    for path in sorted((CORPUS / "sources").glob("*.md")):
        doc = read_document(path.name, path.read_bytes())
        texts[doc.doc_id] = _norm(doc.text)
    return texts


def test_every_fact_is_supported_by_the_document_it_cites(facts, doc_texts):
    facts_checked = facts.sourced()
    assert len(facts_checked) >= 40
    missing = [f"{label}: {f.support!r} not in {f.doc}" for label, f in facts_checked
               if _norm(f.support).rstrip(".") not in doc_texts[f.doc]]
    assert not missing, "\n".join(missing)


def test_fact_base_names_the_periods_and_people_the_issue_asks_for(facts):
    gs = next(o for o in facts.offices if o.id == "general-secretary").holders[0]
    assert (gs.person, gs.start) == ("stalin", "1922-04-03")
    war = next(o for o in facts.offices if o.id == "commissar-war").holders[0]
    assert (war.person, war.start, war.end) == ("trotsky", "1918", "1925-01")
    assert {g.id for g in facts.groups} >= {"triumvirate", "stalin-bukharin", "united-opposition", "the-right"}
    assert [g.id for g in facts.groups_of("bukharin", 1928)] == ["the-right"]
    assert {q.author for q in facts.quotations if q.id in ("grey-blur", "outstanding-mediocrity")} == {"sukhanov", "trotsky"}
    assert facts.timeline, "dated events and their order come from corpus/timeline.yaml"


def test_a_broken_fact_file_is_reported_with_file_and_field(tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("eval"))
    people = corpus / "facts" / "people.yaml"
    people.write_text(people.read_text().replace("person: frunze", "person: frunz"), encoding="utf-8")
    groups = corpus / "facts" / "groups.yaml"
    groups.write_text(groups.read_text().replace("doc: event-triumvirate", "doc: no-such-doc"), encoding="utf-8")
    with pytest.raises(LessonError) as exc:
        load_facts(corpus, corpus_doc_ids(corpus))
    text = str(exc.value)
    assert "unknown person 'frunz'" in text and "unknown document 'no-such-doc'" in text


def test_lessons_check_validates_the_fact_base(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tutor.cli import app

    result = CliRunner().invoke(app, ["lessons", "check"])
    assert result.exit_code == 0, result.output
    assert "facts" in result.output


@pytest.mark.parametrize("text, kind, doc, needle", [
    ("Zinoviev called Stalin the outstanding mediocrity of our party", "misattribution", "hist-underestimation", "Trotsky"),
    ("Stalin was elected leader of the USSR by the people", "false_claim", "overview-power-struggle", "Central Committee"),
    ("Rykov and Tomsky sided with Trotsky in 1927", "wrong_alliance", "overview-why-stalin-won", "Trotsky"),
    ("Zinoviev and Kamenev were allied with Trotsky against Stalin in 1924", "wrong_alliance", "event-triumvirate",
     "triumvirate"),
    ("Trotsky called Stalin a grey blur.", "misattribution", "hist-underestimation", "Sukhanov"),
    ("zinovev n kamenev were w/ trotsky vs stalin in 24", "wrong_alliance", "event-triumvirate", "triumvirate"),
    # A timeline's entry, name, post and year with no verb, dates the appointment (relay trial 66).
    ("it had stalin gen sec 1924 right underneath it", "wrong_date", "overview-power-struggle", "3 April 1922"),
    # "an" before a vowel is the article, not text-speak for "and" ("won and election" went unchecked).
    ("stalin won an election after lenin died", "false_claim", "overview-power-struggle", "election"),
    ("stalin became gensec in 1924", "wrong_date", "overview-power-struggle", "3 April 1922"),
    ("Kamenev led the Leningrad party", "wrong_office", "person-zinoviev", "Zinoviev"),
    ("Bukharin was on the left of the party", "wrong_faction", "event-grain-crisis-and-defeat-of-right", "right"),
    ("Lenin died before Stalin became General Secretary", "wrong_order", "idea-party-apparatus", "3 April 1922"),
])
def test_false_claims_are_contradicted_with_the_correcting_source(checker, doc_texts, text, kind, doc, needle):
    bad = checker.contradicted(text)
    assert bad, f"not caught: {text}"
    v = next((x for x in bad if x.kind == kind), bad[0])
    assert v.kind == kind and v.doc == doc
    assert needle.lower() in v.correct.lower()
    assert v.passage and v.probe.endswith("?") or "?" in v.probe
    assert v.sentence == text.strip()
    if not v.fact_id.startswith("timeline."):
        assert _norm(v.passage).rstrip(".…") in doc_texts[v.doc]


@pytest.mark.parametrize("text", [
    "Trotsky called Stalin the outstanding mediocrity of our party.",
    "Sukhanov called Stalin a grey blur in his memoir of 1917.",
    "It was not Trotsky who called Stalin a grey blur.",
    "In 1924 Zinoviev and Kamenev were allied with Stalin against Trotsky.",
    "Stalin became General Secretary on 3 April 1922.",
    "Rykov and Tomsky backed Stalin in 1927.",
])
def test_true_claims_are_supported(checker, text):
    verdicts = checker.check(text)
    assert verdicts and not [v for v in verdicts if v.status == "contradicted"]
    assert any(v.status == "supported" for v in verdicts)


@pytest.mark.parametrize("text", [
    "Stalin was good at organising the party.",
    "I think Trotsky lost because he was arrogant and ill at the wrong moments.",
    "Bukharin met Kamenev in secret.",
    "The weather in Moscow was cold.",
    "",
])
def test_silence_is_not_an_alarm(checker, text):
    assert not checker.contradicted(text)


def test_verdict_as_dict_is_json(checker):
    v = checker.check("Trotsky called Stalin a grey blur")[0]
    data = json.loads(json.dumps(v.as_dict()))
    assert set(data) == {"status", "kind", "claim", "correct", "fact", "doc", "passage", "probe"}
    assert data["claim"]["subject"] == "trotsky" and data["claim"]["object"] == "grey-blur"


def test_a_paraphrased_quotation_is_matched_by_the_embedding_model(facts, embedder):
    checker = FactChecker(facts, embedder=embedder)
    bad = checker.contradicted("Zinoviev called Stalin the party's most brilliant nobody")
    assert bad and bad[0].kind == "misattribution" and "Trotsky" in bad[0].correct
    assert not checker.contradicted("Trotsky said Stalin was dangerous")


def test_claim_set_floors(facts, embedder):
    """The issue's floors on the project's own set (220 statements, half false, dev and held-out)."""
    from tutor.evaluation.claims import load_claim_cases, run_claims

    cases = load_claim_cases(CLAIMS)
    assert len(cases) >= 200
    assert sum(c["false"] for c in cases) == sum(not c["false"] for c in cases)
    result = run_claims(FactChecker(facts, embedder=embedder), cases)
    m = result["metrics"]
    print("claims:", json.dumps({k: m[k] for k in ("false_caught", "true_flagged")}), json.dumps(m["splits"]))
    assert m["false_caught"] >= FALSE_CAUGHT_FLOOR
    assert m["true_flagged"] <= TRUE_FLAGGED_CEILING
    assert {"dev", "heldout"} <= set(m["splits"])


def test_eval_claims_cli_writes_the_documented_json(tmp_path):
    from typer.testing import CliRunner

    from tutor.cli import app

    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "text": "Trotsky called Stalin a grey blur", "false": true}\n'
                     '{"id": "b", "text": "Sukhanov called Stalin a grey blur", "false": false}\n'
                     '{"id": "c", "text": "Stalin liked tea"}\n', encoding="utf-8")
    out = tmp_path / "out.json"
    result = CliRunner().invoke(app, ["eval", "claims", "--cases", str(cases), "--json", str(out),
                                      "--fail-under", "false_caught=1.0"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [c["id"] for c in data["cases"]] == ["a", "b", "c"]
    assert [c["flagged"] for c in data["cases"]] == [True, False, False]
    assert data["cases"][0]["verdicts"][0]["status"] == "contradicted"
    assert data["metrics"]["false_caught"] == 1.0 and data["metrics"]["true_flagged"] == 0.0


def test_eval_claims_cli_names_a_bad_line(tmp_path):
    from typer.testing import CliRunner

    from tutor.cli import app

    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "text": "x", "false": "yes"}\nnot json\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "claims", "--cases", str(cases)])
    assert result.exit_code == 2
    assert "line 1" in result.output and "line 2" in result.output


@pytest.mark.parametrize("ref, answer, needle", [
    ("source-trotsky-my-life", "Stalin wrote this in 1924 to attack Trotsky", "Who actually wrote “My Life”?"),
    ("source-lessons-of-october", "Zinoviev wrote this article in 1926", "Trotsky published"),
    ("source-declaration-of-46", "Trotsky signed it in 1923", "Trotsky did not sign"),
])
def test_the_source_coach_checks_provenance_claims_against_the_facts(ref, answer, needle):
    from tutor.coach.source import SourceCoach
    from tutor.lessons import load_lessons

    coach = SourceCoach(load_lessons(CORPUS))
    session = coach.start(coach.load(ref), "why Stalin won")
    coach.first_turn(session)
    turn = coach.respond(session, answer)
    assert turn.step == "who", "a wrong provenance claim is probed, not passed over"
    assert needle in turn.text and turn.text.rstrip().endswith("?")
    right = coach.respond(session, {"source-trotsky-my-life": "Trotsky wrote it in exile in 1930 after he had lost",
                                    "source-lessons-of-october": "Trotsky wrote it in 1924 as Commissar of War",
                                    "source-declaration-of-46": "Forty-six party members wrote it; Trotsky did not sign it"}[ref])
    assert right.step == "when"


def test_a_contradicted_verdict_is_probed_like_a_misconception(checker):
    v = checker.contradicted("Zinoviev called Stalin the outstanding mediocrity of our party")[0]
    m = v.as_misconception()
    assert m.id == "fact:quotations.outstanding-mediocrity" and m.correct_doc == "hist-underestimation"
    assert "?" in m.probe and "Trotsky" in m.why_wrong
    assert "The source says" not in m.probe, "the chat quotes the passage itself; the probe is the question"
    assert m.triggered_by("Zinoviev called Stalin the outstanding mediocrity of our party")
    supported = checker.check("Trotsky called Stalin the outstanding mediocrity of our party")[0]
    with pytest.raises(ValueError):
        supported.as_misconception()


# -- issue 22: where students go wrong (posts, alliances, the Testament, exile) -------------------
HELDOUT = CORPUS / "eval" / "claims_heldout.jsonl"
# Issue 22 floors on a set written before the checker was changed for it.
HELDOUT_FALSE_CAUGHT_FLOOR = 0.85


@pytest.mark.parametrize("text, kind, doc, needle", [
    ("the Testament was read out to the whole congress", "false_claim", "event-testament-not-acted-on",
     "each delegation"),
    ("Zinoviev chaired the Comintern until 1929", "wrong_date", "person-zinoviev", "1926"),
    ("Lenin's testament was read out at the 12th Congress", "false_claim", "event-triumvirate", "not read"),
    ("the party voted and elected Stalin leader after Lenin", "false_claim", "overview-power-struggle",
     "no post of party leader"),
    ("Zinoviev and Kamenev were against Stalin from the start", "wrong_alliance", "event-triumvirate",
     "triumvirate"),
    ("Trotsky stayed Commissar of War until 1927", "wrong_date", "person-trotsky", "January 1925"),
    ("Voroshilov replaced Trotsky as Commissar of War", "wrong_office", "source-lessons-of-october", "Frunze"),
    ("trotsky was deported to mexico in 1929", "false_claim", "event-trotsky-exile-and-deportation", "Turkey"),
    ("Trotsky was killed inside the USSR in 1940", "false_claim", "event-trotsky-exile-and-deportation", "Mexico"),
    ("The ban on factions was brought in by Stalin", "false_claim", "event-ban-on-factions", "10th Congress"),
    ("Sukhanov called Trotsky a grey blur", "misattribution", "hist-underestimation", "about Stalin"),
    ("Stalin turned on the Right in 1925", "wrong_date", "event-grain-crisis-and-defeat-of-right", "1928"),
    ("Bukharin and Stalin fell out in 1925", "wrong_alliance", "overview-why-stalin-won", "stood together"),
    ("the right were bukharin, zinoviev and tomsky", "wrong_faction", "event-fourteenth-congress", "left"),
    ("the lenin enrolment brought in about 2 million members", "false_claim", "event-lenin-enrolment", "240,000"),
    ("lenin enrolment like 100000? mostly peasants i think", "false_claim", "event-lenin-enrolment", "240,000"),
    ("Uglanov became head of the Moscow party in 1926", "wrong_date", "event-triumvirate", "by 1925"),
    ("i thought trotsky was the one who wanted socialism in one country and stalin wanted world revolution",
     "false_claim", "overview-power-struggle", "permanent revolution"),
    ("Stalin backed permanent revolution", "false_claim", "overview-power-struggle", "Trotsky's theory"),
    ("Lenin's Testament said Trotsky was too rude", "misattribution", "event-lenins-illness-and-testament", "about Stalin"),
    ("Socialism in One Country, which he first set out in Foundations of Leninism in spring 1924", "false_claim",
     "source-foundations-of-leninism", "December 1924"),
    ("Trotsky missed Lenin's funeral because he was recovering in the Crimea", "false_claim",
     "event-lenin-death-and-cult", "Caucasus"),
    ("Trotsky went to Lenin's funeral", "false_claim", "event-lenin-death-and-cult", "Caucasus"),
    ("the testament was published in pravda in 1924", "false_claim", "event-testament-not-acted-on", "1956"),
])
def test_issue_22_false_claims_are_caught_with_their_source(checker, doc_texts, text, kind, doc, needle):
    bad = checker.contradicted(text)
    assert bad, f"not caught: {text}"
    v = next((x for x in bad if x.kind == kind), bad[0])
    assert (v.kind, v.doc) == (kind, doc)
    assert needle.lower() in v.correct.lower()
    assert "?" in v.probe
    assert _norm(v.passage).rstrip(".…") in doc_texts[v.doc]


@pytest.mark.parametrize("text", [
    "i thought trotsky got expelled in 1927 and then killed like straight away in 1929",
    "also unrelated but how did trotsky actually end up, i thought he got expelled in 1927 and then killed like "
    "straight away in 1929",
])
def test_a_second_verb_shares_the_first_ones_subject(checker, text):
    """"… got expelled in 1927 and then killed in 1929": the killing is Trotsky's, dated by the timeline
    (relay trial 41's evidence found nothing, and the 1940 murder never reached the model)."""
    bad = checker.contradicted(text)
    assert [(v.kind, v.fact_id) for v in bad] == [("wrong_date", "timeline.trotsky-murdered")]
    assert "1940" in bad[0].correct
    # Lenin is never the "he" of a fate ("after lenin died he was expelled …" names no one else).
    assert not checker.contradicted("after lenin died he was expelled and then killed in 1929")


@pytest.mark.parametrize("text", [
    "the testament was read to the delegations at the 13th congress, not to the whole congress",
    "Zinoviev was chairman of the Comintern until 1926",
    "zinoviev and kamenev protected stalin when the testament came up in 1924",
    "Zinoviev and Kamenev attacked socialism in one country in 1925",
    "lenin's third stroke in march 1923 basically ended his political life",
    "nobody voted stalin in as leader, there wasnt an election for leader",
    "Frunze replaced Trotsky as commissar of war",
    "Stalin sided with the right against the left and then turned on the right in 1928",
    "the testament wasnt published in russia at the time",
    "The Testament was only published in the Soviet Union in 1956.",
    "In 1926 Trotsky joined his former enemies Zinoviev and Kamenev in the United Opposition.",
    "Trotsky's speech at Joffe's funeral was his last public speech in the USSR.",
    "bukharin backed stalin until 1928",
    "the Lenin Enrolment brought in over 200,000 members in 1924",
    "the lenin enrolment added 203,000 members",
    "Bukharin supported socialism in one country",
    "the testament said stalin was too rude",
    "the later edition of Foundations of Leninism set out socialism in one country",
    "Trotsky fought Wrangel's army in the Crimea in 1920",
    "Foundations of Leninism did not yet support socialism in one country",
    # The people an event brought in are not the event (relay trial 43's essay notice).
    "Socialism in One Country then gave the new Lenin Enrolment members a reason to accept the result.",
    # Relay trial 42's evidence misreadings: a year in an "after" phrase only bounds the break; a cue
    # far after an event belongs to a later clause.
    "Then after the grain procurement crisis of 1927-28 and the Urals-Siberian method, Stalin turned on Bukharin, "
    "Rykov and Tomsky as the Right Deviation, and by 1929 Bukharin was off the Politburo.",
    "Which explains why Zinoviev's Leningrad delegation at the 14th Congress in 1925 was so isolated - Leningrad was "
    "the one big organisation Stalin didn't control, and once the Congress had voted against them Stalin sent "
    "Molotov and Kirov to purge it.",
    "trotsky didnt want socialism in one country",
    "Stalin opposed Trotsky, who wanted permanent revolution",
    # The course dates Uglanov's Moscow leadership only "by 1925" (relay trial 41 called 1924 wrong).
    "Uglanov was brought in to run the Moscow party in 1924 and brought it over to Stalin against Kamenev",
    # A list of events, each with its date after it (relay trial 40's evidence dated each by the one before).
    "so my summary: gen sec april 1922, testament read to delegations may 1924, trotsky expelled nov 1927 "
    "alma-ata jan 1928 turkey feb 1929, bukharin out of politburo nov 1929.",
    # What a quarrel is about is no event in the order (relay trial 40).
    "once Trotsky lost the War Commissariat in January 1925, Zinoviev and Kamenev didn't need Stalin any more, "
    "and they fell out over Socialism in One Country and NEP concessions to the peasants",
    "Stalin and Bukharin were still allies in early 1928",
])
def test_issue_22_true_statements_are_not_flagged(checker, text):
    assert not checker.contradicted(text), [v.as_dict() for v in checker.contradicted(text)]


@pytest.mark.parametrize("text", [
    "Why was Lenin's Testament not acted on in 1924?",
    "why was lenins testament not acted on in 1924",
    "was it when Stalin was in charge of the army?",
    "Who was Kirov?",
])
def test_a_question_is_not_judged_as_a_claim(checker, text):
    assert checker.is_question(text)
    assert checker.check(text) == []
    assert checker.check("Trotsky was killed in 1929?")  # a statement said as a question still claims


def test_a_statement_opening_with_a_question_word_is_still_checked(checker):
    assert not checker.is_question("When Lenin died in 1925, Trotsky was away.")
    assert checker.contradicted("When Lenin died in 1925, Trotsky was away.")


def test_heldout_claim_set_floors(facts, embedder):
    """Issue 22's floors on a student-style set (≥150, half true) kept apart from the tuning set."""
    from tutor.evaluation.claims import load_claim_cases, run_claims

    cases = load_claim_cases(HELDOUT)
    assert len(cases) >= 150 and sum(c["false"] for c in cases) == sum(not c["false"] for c in cases)
    training = {json.loads(line)["text"].lower() for line in CLAIMS.read_text(encoding="utf-8").splitlines()}
    assert not [c for c in cases if c["text"].lower() in training]
    m = run_claims(FactChecker(facts, embedder=embedder), cases)["metrics"]
    print("held-out claims:", json.dumps({k: m[k] for k in ("false_caught", "true_flagged")}))
    assert m["false_caught"] >= HELDOUT_FALSE_CAUGHT_FLOOR
    assert m["true_flagged"] <= TRUE_FLAGGED_CEILING


def test_the_corpus_own_sentences_raise_few_alarms(checker):
    """Every sentence of corpus/sources is true: each flag is a false alarm an essay could meet.
    A ceiling at today's count (46 before issue 22) so a change cannot add new ones unseen."""
    alarms = []
    for path in sorted((CORPUS / "sources").glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        for line in body.splitlines():
            if line.strip() and not line.startswith("#"):
                alarms += [(path.stem, v.kind, v.sentence[:80]) for v in checker.contradicted(line)]
    print(len(alarms), "alarms on the corpus's own sentences")
    assert len(alarms) <= 26, "\n".join(map(str, alarms))


def test_eval_claims_cli_runs_the_heldout_set_with_its_floors(tmp_path):
    from typer.testing import CliRunner

    from tutor.cli import app

    out = tmp_path / "heldout.json"
    result = CliRunner().invoke(app, ["eval", "claims", "--cases", str(HELDOUT), "--json", str(out),
                                      "--fail-under", f"false_caught={HELDOUT_FALSE_CAUGHT_FLOOR}"])
    assert result.exit_code == 0, result.output
    m = json.loads(out.read_text())["metrics"]
    assert m["false_statements"] == m["true_statements"] >= 75
    assert m["true_flagged"] <= TRUE_FLAGGED_CEILING


def test_always_allied_is_refuted_by_the_years_they_were_enemies(checker):
    """Relay trial 42: "zinoviev and kamenev were basically always with trotsky against stalin" was refuted
    by quoting the United Opposition (their alliance), and supported by Trotsky's own enmity to Stalin."""
    found = checker.check("zinoviev and kamenev were basically always with trotsky against stalin")
    assert found and all(v.status == "contradicted" for v in found), [v.as_dict() for v in found]
    assert all("triumvirate" in v.correct for v in found)
    assert not any("United Opposition" in v.correct for v in found)


def test_the_year_before_a_group_began_is_neither_support_nor_contradiction(checker):
    """Relay trials 41 and 43: "at the 14th Congress in December 1925 … Zinoviev and Kamenev joined Trotsky
    in the United Opposition" was evidence that "supports"; the group belongs to 1926-1927."""
    found = checker.check("In 1925 Zinoviev and Kamenev joined Trotsky in the United Opposition")
    assert not any(v.status == "supported" and v.fact_id == "groups.united-opposition" for v in found), \
        [v.as_dict() for v in found]
    assert checker.contradicted("In 1924 Zinoviev joined the United Opposition")


@pytest.mark.parametrize("text, fact_id", [
    ("Bukharin was then removed from the Politburo in April 1929 and that's the end of the struggle.",
     "timeline.bukharin-leaves-politburo"),
    ("Lenin's postscript in March 1923 called Stalin too rude", "timeline.testament-postscript"),
])
def test_a_wrong_month_in_the_right_year_is_contradicted(checker, text, fact_id):
    """Relay trial 44: the evidence said "only the date was checked, and it fits" for April 1929 (November)
    and March 1923 (4 January)."""
    assert fact_id in [v.fact_id for v in checker.contradicted(text)]
    assert not checker.contradicted("Bukharin was removed from the Politburo in November 1929")


def test_an_office_held_by_a_date_is_told_as_by_that_date(checker):
    """Offline trial 12's essay notice: "Kamenev (1918–1925), then Uglanov (1925–November 1928)"; the course
    dates Uglanov's Moscow leadership only "by 1925"."""
    [v] = [v for v in checker.contradicted("Zinoviev ran the Moscow party in 1926") if v.fact_id == "offices.moscow-head"]
    assert "Uglanov (by 1925" in v.correct


def test_a_negation_in_a_clause_of_its_own_does_not_deny_the_next(checker):
    """Offline trial 13: "trotsky wasn't a tsar general he was in charge of the red army" was told it was
    wrong, the "wasn't" of the first clause read as denying the second."""
    [v] = [v for v in checker.check("ok so trotsky wasn't a tsar general he was in charge of the red army")
           if v.fact_id == "offices.commissar-war"]
    assert v.status == "supported"
    assert [v.status for v in checker.check("trotsky wasn't in charge of the red army")] == ["contradicted"]


def test_a_work_published_by_someone_else_in_a_later_clause_is_no_attribution(checker):
    """Offline trial 13: "in 1925 he even publicly denied the Testament existed after Max Eastman published
    it" was corrected as if it said Eastman wrote the Testament, in 1925."""
    assert not checker.check("in 1925 he even publicly denied the Testament existed after Max Eastman published it.")
    assert any(v.status == "contradicted" for v in checker.check("the Testament, which Trotsky wrote, attacked Stalin"))
    assert any(v.status == "contradicted" for v in checker.check("Lenin wrote the Testament in 1925"))


def test_a_year_in_one_list_item_does_not_date_the_next(checker):
    """Relay trial 49: "(Trotsky's passivity, illness in autumn 1923, missing Lenin's funeral, …)" dated the
    funeral 1923, and the model was made to judge a true list as if it misdated the funeral."""
    assert not checker.check("the weaknesses of opponents half is strongest for 1923-25 (Trotsky's passivity, "
                             "illness in autumn 1923, missing Lenin's funeral, Zinoviev and Kamenev saving Stalin)")
    assert [v.status for v in checker.check("In 1925, Trotsky was expelled from the party")] == ["contradicted"]


def test_a_when_clause_then_a_claim_to_confirm_is_a_claim(checker):
    """Relay trial 49: "also when trotsky lost the army job zinoviev took over the red army right?" was read
    as a question and the false claim in it came to the model with no evidence."""
    assert not FactChecker.is_question("also when trotsky lost the army job zinoviev took over the red army right?")
    assert FactChecker.is_question("when did trotsky get expelled, right?")
    [v] = checker.check("also when trotsky lost the army job zinoviev took over the red army right?")
    assert v.status == "contradicted" and "Frunze" in v.correct


def test_an_opening_he_is_the_one_rival_the_sentence_before_names(checker):
    """Relay trial 49: "…Trotsky's side of it. He'd famously dismissed Stalin as a 'grey blur'" reached the
    model with no evidence; the phrase is Sukhanov's."""
    [v] = [v for v in checker.check("The bit I'm less sure about is Trotsky's side of it. He'd famously dismissed "
                                    "Stalin as a 'grey blur', and he had a power base of his own.")
           if v.fact_id == "quotations.grey-blur"]
    assert v.status == "contradicted" and v.claim.sentence.startswith("He'd")  # the student's own words
    assert not checker.check("Stalin and Trotsky fought. He was expelled in 1925.")  # two rivals: no reading


def test_a_participle_after_a_comma_is_not_the_nearest_persons_saying(checker):
    """Relay trial 49: "Bukharin's panicky meeting with Kamenev in July 1928, calling Stalin Genghis Khan" was
    evidence that the student gave the phrase to Kamenev."""
    assert not checker.check("Bukharin's panicky meeting with Kamenev in July 1928, calling Stalin Genghis Khan, "
                             "shows he understood the danger.")
    assert checker.check("Trotsky called Stalin Genghis Khan")[0].status == "contradicted"


def test_an_order_cue_inside_a_reason_is_no_order_between_the_events(checker):
    """Relay trial 49: "at the 14th congress, bc once zinoviev and kamenev lost only leningrad was against him
    and then kirov took leningrad too" was evidence that it put Kirov's takeover before the congress."""
    assert not checker.check("for too late i'd say dec 1925 at the 14th congress, bc once zinoviev and kamenev lost "
                             "only leningrad was against him and then kirov took leningrad too")
    assert checker.check("kirov took over leningrad before the 14th congress")[0].status == "contradicted"


def test_an_unresolved_he_is_no_one_a_timeline_event_names(checker):
    """Relay trial 50: "and then he got expelled from the party in 1929 same time trotsky got kicked out" (he
    being Bukharin) was evidence that it misdated Trotsky's expulsion."""
    found = checker.check("and then he got expelled from the party in 1929 same time trotsky got kicked out of the country")
    assert not any(v.fact_id == "timeline.trotsky-zinoviev-expelled" for v in found), found
    assert checker.check("Trotsky was ill. He got expelled from the party in 1925.")[0].status == "contradicted"


def test_a_side_allied_with_an_unnamed_him_is_not_allied_with_itself(checker):
    """Relay trial 51: "zinoviev and kamenev were already with him from 1923" (him being Trotsky) was evidence
    that supported it, as Zinoviev and Kamenev standing together in the triumvirate."""
    assert not checker.check("and zinoviev and kamenev were already with him from 1923 in the left opposition")
    assert checker.check("zinoviev and kamenev were allies in 1923")[0].status == "supported"


def test_a_question_that_takes_a_claim_as_given_is_checked_on_it(checker):
    """Relay trial 50: "was it just that zinoviev and kamenev were mensheviks and ganged up with stalin?"
    brought no evidence, though a sourced denial settles it."""
    question = "was it just that zinoviev and kamenev were mensheviks and ganged up with stalin?"
    [v] = checker.check(question)
    assert v.status == "contradicted" and v.claim.sentence == question
    assert checker.check("is it true that trotsky was killed in 1929?")[0].status == "contradicted"
    assert not checker.check("was it the general secretary job?")


def test_a_verb_with_a_pronoun_subject_of_its_own_is_not_the_named_persons_saying(checker):
    """Relay trial 51: "he wasn't naive about Stalin by 1928 - he called him a Genghis Khan in that secret
    meeting with Kamenev" (he being Bukharin) was evidence that the student gave the phrase to Stalin."""
    found = checker.check("he wasn't naive about Stalin by 1928 - he called him a Genghis Khan in that secret "
                          "meeting with Kamenev.")
    assert not any(v.status == "contradicted" for v in found), found


def test_trotsky_exiled_to_siberia_by_stalin_is_denied_but_not_by_the_tsar(checker):
    """Relay trial 52: "and then stalin had him exiled to siberia straight after" reached the model with no
    evidence (Alma-Ata, in Central Asia, in January 1928)."""
    found = checker.check("and then stalin had him exiled to siberia straight after i think")
    assert [v.fact_id for v in found if v.status == "contradicted"] == ["denials.trotsky-alma-ata-not-siberia"]
    assert not checker.check("the tsar exiled trotsky to siberia in 1900")


def test_allies_against_an_unnamed_him_are_not_supported_by_a_shared_body(checker):
    """Relay trial 52: "zinoviev and kamenev teamed up with bukharin against him in 1925" (him being Stalin)
    was evidence that supported it, by the semyorka; and "i thought he was on the left with trotsky" after
    "bukharin." was support for Trotsky's place on the Left only."""
    assert not [v for v in checker.check("then zinoviev and kamenev teamed up with bukharin against him in 1925 but lost.")
                if v.status == "supported"]
    found = checker.check("different thing though - bukharin. i thought he was on the left with trotsky")
    assert any(v.status == "contradicted" and v.claim.subject == "bukharin" for v in found), found


def test_trotsky_shot_is_denied_with_his_murder_in_1940(checker):
    """Relay trial 53: "and then trotsky got shot in 1929" reached the model with no evidence, and it told the
    student the course did not cover 1929."""
    [v] = checker.check("and thats why nobody cared, and then trotsky got shot in 1929")
    assert v.status == "contradicted" and "1940" in v.correct
    assert not checker.check("trotsky was shot at in 1940 and survived")
    assert all(v.status == "supported" for v in checker.check("zinoviev and kamenev were shot in 1936"))


def test_kirovs_murder_is_dated_outside_the_struggle(checker):
    """Relay trial 55: "Kirov murdered by Stalin in 1926" went uncorrected: no course document dated it."""
    [v] = checker.check("kirov was murdered by stalin in 1926")
    assert v.status == "contradicted" and "1934" in v.correct


def test_a_negation_before_because_is_not_the_reasons(checker):
    """Relay trial 55: "the testament didnt finish him off because lenin literally said trotsky should take over
    as leader in it" came to the model as evidence that *supports* it (read as a denial of the heir)."""
    [v] = checker.check("but i still dont get why the testament didnt finish him off because lenin literally "
                        "said trotsky should take over as leader in it.")
    assert v.status == "contradicted" and v.fact_id == "denials.testament-no-heir-named"


def test_a_rival_had_him_killed_is_the_other_rival_named(checker):
    """Relay trial 56: "thats why stalin had him executed in 1929", "him" being Bukharin named earlier in the
    sentence, reached the model with no evidence; and "bukharins idea not stalins" was shown as supporting
    the half-truth while it denies Stalin's authorship."""
    found = checker.check("also another thing, socialism in one country was bukharins idea not stalins right, "
                          "and thats why stalin had him executed in 1929 so he could take the credit")
    assert {v.fact_id for v in found if v.status == "contradicted"} == {
        "timeline.bukharin-shot", "quotations.socialism-in-one-country"}
    assert not [v for v in found if v.status == "supported"]
    # The sentence before names him; a rival named doing it to another rival is said as what was done to him.
    assert [v.fact_id for v in checker.contradicted("Bukharin lost. Then stalin had him shot in 1929.")] == [
        "timeline.bukharin-shot"]
    assert [v.fact_id for v in checker.contradicted("trotsky was a problem so stalin exiled him in 1927")] == [
        "timeline.trotsky-exiled-alma-ata"]
    assert [v.status for v in checker.check("stalin exiled trotsky in 1928")] == ["supported"]
    # With no one else named, or two, "him" stays unresolved; Bukharin's share of the idea alone is no error.
    assert not checker.check("stalin had him executed in 1929")
    assert not checker.check("zinoviev and bukharin were rivals, stalin had him shot in 1936")
    assert [(v.status, v.kind) for v in checker.check("socialism in one country was bukharins idea")] == [("unknown", "coauthor")]


def test_a_fate_after_and_shares_the_subject_and_the_year_that_opens_the_clause(checker):
    """Relay trial 57: "and then in 1929 bukharin got expelled and executed" and "bukharin helped stalin beat
    the united opposition in 1927 and then got thrown out and shot in 1929" reached the model with no evidence
    (Bukharin was shot in March 1938); it told the student its passages did not cover the shooting."""
    for said in ("and then in 1929 bukharin got expelled and executed so stalin had no one left.",
                 "so basically bukharin helped stalin beat the united opposition in 1927 and then got thrown out "
                 "and shot in 1929, kind of ironic."):
        assert "timeline.bukharin-shot" in {v.fact_id for v in checker.contradicted(said)}, said
    assert not checker.contradicted("in 1938 bukharin was tried and executed")


def test_a_quotation_said_it_in_a_year_is_dated(checker):
    """Relay trial 58: "our textbook has his 'enrich yourselves' quote and i wrote that he said it in 1928" reached
    the model with no evidence (April 1925), and it sent the student to check the date."""
    [v] = checker.check("our textbook has his 'enrich yourselves' quote and i wrote that he said it in 1928 when he'd "
                        "teamed up with Trotsky against Stalin over collectivisation.")
    assert v.status == "contradicted" and v.fact_id == "quotations.enrich-yourselves" and "April 1925" in v.correct
    assert all(v.status == "supported" for v in checker.check("bukharin's enrich yourselves, he said it in 1925"))


def test_a_cue_between_two_events_speaks_for_their_order(checker):
    """Relay trial 59: "Once Stalin became General Secretary in 1923, after Lenin's third stroke, he controlled
    appointments…" was evidence that the order "fits", read from the opening "once"."""
    found = checker.check("Once Stalin became General Secretary in 1923, after Lenin's third stroke, he controlled "
                          "appointments through the Orgburo and the Secretariat.")
    assert not [v for v in found if v.kind == "before"], found
    assert "wrong_order" in {v.kind for v in found if v.status == "contradicted"}
    assert [v.status for v in checker.check("Once Stalin became General Secretary in 1922, before Lenin's third "
                                             "stroke, he built his network.") if v.claim.relation == "before"] == ["supported"]


def test_a_member_is_read_at_the_mention_nearest_the_group(checker):
    """Relay trial 59: "a rebuke for Stalin, but not his removal — the troika (Zinoviev, Kamenev, Stalin) would have
    closed ranks" was evidence that contradicts Stalin's place in the troika."""
    found = checker.check("realistically he'd have won maybe a rebuke for Stalin, but not his removal — the troika "
                          "(Zinoviev, Kamenev, Stalin) would have closed ranks against Trotsky.")
    assert not [v for v in found if v.status == "contradicted"], found


def test_an_authorship_denied_by_dont_think_or_wasnt_is_contradicted(checker):
    """Relay trial 59: "i really don't think socialism in one country was Stalin's" was evidence that supports
    Stalin's authorship; "socialism in one country wasn't Stalin's" had none."""
    for said in ("BUT i really don't think socialism in one country was Stalin's, our revision guide has it under "
                 "Trotsky's ideas section i'm pretty sure", "socialism in one country wasn't Stalin's"):
        [v] = checker.check(said)
        assert (v.status, v.kind) == ("contradicted", "misattribution"), said
    assert [v.status for v in checker.check("i don't think grey blur was trotsky's")] == ["supported"]
    assert [v.status for v in checker.check("permanent revolution wasn't stalin's")] == ["supported"]


def test_a_cue_about_the_students_own_doings_orders_no_events(checker):
    """Relay trial 58: "ok let me check my fixed timeline before i go: ban on factions march 1921 …, testament read
    to delegations separately may 1924" was evidence that contradicts the order of the ban and the 13th Congress."""
    found = checker.check("ok let me check my fixed timeline before i go: ban on factions march 1921 under lenin, "
                          "testament read to delegations separately may 1924 and zinoviev+kamenev saved stalin.")
    assert not [v for v in found if v.status == "contradicted"], found
    assert [v.status for v in checker.check("Before Lenin died, Stalin became General Secretary")
            if v.claim.relation == "before"] == ["supported"]


def test_socialism_in_one_country_adopted_in_1925_is_the_conference_not_the_statement(checker):
    """Relay trial 61: "you say Socialism in One Country was 'adopted in 1925'" was evidence contradicting the
    December 1924 statement; the 14th Party Conference adopted it in April 1925."""
    assert not checker.contradicted("One last thing: you say Socialism in One Country was 'adopted in 1925' but the "
                                    "source note also says 'from December 1924'.")
    assert [v.status for v in checker.check("socialism in one country was adopted in 1925")] == ["supported"]
    assert "timeline.fourteenth-conference" in {v.fact_id for v in checker.contradicted(
        "socialism in one country was adopted in 1924")}


def test_trotsky_in_exile_by_1930_is_no_claim_about_lenins_funeral(checker):
    """Relay trial 62: "On the funeral: by 1930 Trotsky is in exile writing for sympathisers abroad" was evidence
    contradicting it as "Trotsky already in exile when Lenin died"."""
    assert not checker.check("On the funeral: by 1930 Trotsky is in exile writing for sympathisers abroad, so the "
                             "trick version is self-serving.")
    assert checker.contradicted("trotsky was already in exile when lenin died")


def test_krupskaya_named_is_not_the_insult_to_her(checker):
    """Relay trial 62: "krupskaya got it published in pravda in 1926" was evidence that Stalin's insult to Krupskaya
    (December 1922) was misdated."""
    assert "timeline.krupskaya-insulted" not in {v.fact_id for v in checker.check("krupskaya got it published in pravda in 1926")}
    assert "timeline.krupskaya-insulted" in {v.fact_id for v in checker.contradicted("stalin was rude to krupskaya in 1924")}


def test_a_congress_spanning_days_of_one_month_is_misdated_by_another_month(checker):
    """Relay trial 64: "read at the 13th congress in january 1924" was evidence that the date "fits" (the congress
    met on 23–31 May 1924)."""
    assert "timeline.thirteenth-congress" in {v.fact_id for v in checker.contradicted(
        "the testament was read at the 13th congress in january 1924")}
    assert all(v.status == "supported" for v in checker.check("the 13th congress in may 1924"))


def test_the_one_crushed_is_not_in_the_group_that_crushed_him(checker):
    """Relay trial 65: "they spent 1923-24 helping Stalin crush Trotsky in the triumvirate" was evidence that the
    student put Trotsky in the triumvirate; the model's "right" was refused twice and the turn fell back."""
    found = checker.check("Zinoviev had the Moscow party organisation and Kamenev was in Leningrad, and yet they spent "
                          "1923-24 helping Stalin crush Trotsky in the triumvirate, and only turned on him once it was too late.")
    assert "groups.triumvirate" not in {v.fact_id for v in found if v.status == "contradicted"}, found
    assert "offices.moscow-head" in {v.fact_id for v in found if v.status == "contradicted"}
    assert checker.contradicted("trotsky was in the triumvirate")


def test_a_post_claimed_in_the_wrong_order_is_not_also_supported(checker):
    """Relay trial 66: "stalin was only made gen sec after lenin died" got "supported" (he held the post)
    beside the wrong order, and the model was told the student was right."""
    verdicts = checker.check("stalin was only made gen sec after lenin died")
    assert any(v.status == "contradicted" and v.kind == "wrong_order" for v in verdicts), verdicts
    assert not any(v.status == "supported" for v in verdicts), verdicts


@pytest.mark.parametrize("sentence, status", [
    # Relay trial 68's evidence "supported" a removal that never happened (he held the post that year)…
    ("stalin was removed as gen sec for a few months in 1924", "contradicted"),
    # …and a denial of it was called wrong.
    ("stalin was not removed as general secretary in 1924", "supported"),
    ("trotsky was not removed as commissar of war in 1925", "contradicted"),
])
def test_a_removal_from_a_post_is_checked_against_the_posts_end(checker, sentence, status):
    verdicts = [v for v in checker.check(sentence) if v.fact_id.startswith("offices.")]
    assert verdicts and verdicts[0].status == status, verdicts


def test_shooting_oneself_in_the_foot_is_no_death(checker):
    """Relay trial 68: "trotsky shot himself in the foot" was read as Trotsky shot."""
    assert not checker.check("trotsky shot himself in the foot by missing the funeral")


def test_getting_the_post_after_the_funeral_is_the_wrong_order(checker):
    """Relay trial 68: "Stalin got general sec after the funeral as a reward" was "supported" (he held it)."""
    verdicts = checker.check("stalin got general sec after the funeral as a reward")
    assert any(v.status == "contradicted" and v.kind == "wrong_order" for v in verdicts), verdicts
    assert not any(v.status == "supported" for v in verdicts), verdicts


@pytest.mark.parametrize("sentence", [
    "stalin won bc after lenin died in 1924 he got made gen sec and then he could appoint all his mates right",
    "because i thought lenin hated stalin by the end, like the testament said to remove him as general secretary",
])
def test_a_post_after_another_subject_is_not_lenins(checker, sentence):
    """Offline trial 14 answered both with "General Secretary of the party was Stalin, never Lenin": the
    post was read as claimed for Lenin, the person named nearest before it."""
    assert not [v for v in checker.check(sentence) if v.claim.subject == "lenin" and v.fact_id.startswith("offices.")]


def test_a_true_date_the_student_doubts_is_corrected_not_supported(checker):
    """Relay trial 73: "i dont think 1922 is right" beside the General Secretary was read as support for 1922."""
    verdicts = checker.check("i dont think stalin became general secretary in 1922")
    assert any(v.status == "contradicted" for v in verdicts), verdicts
    assert not any(v.status == "supported" for v in verdicts), verdicts
    verdicts = checker.check("i dont think 1922 is right, stalin became gen sec after lenin died")
    assert any(v.kind == "wrong_order" for v in verdicts) and not any(v.status == "supported" for v in verdicts), verdicts


def test_the_one_a_group_was_against_is_no_member(checker):
    """Offline trial 14: "the triumvirate against trotsky was stalin, zinoviev and bukharin" had no verdict."""
    verdicts = checker.check("the triumvirate against trotsky was stalin, zinoviev and bukharin")
    assert [v.claim.subject for v in verdicts if v.status == "contradicted"] == ["bukharin"], verdicts
    assert not any(v.claim.subject == "trotsky" for v in verdicts), verdicts
    assert not [v for v in checker.check("the triumvirate against trotsky was stalin, zinoviev and kamenev")
                if v.status == "contradicted"]


def test_would_not_and_the_students_own_writing_deny_and_date_nothing(checker):
    """Relay trial 74: "who decided that Lenin's Testament wouldn't be read to the full congress" was read as
    the claim that it was; "if i had to write one sentence … whether the testament in may 1924 was the turning
    point" dated the Testament's writing to 1924."""
    asked = checker.check("at the 13th Congress in May 1924, who actually decided that Lenin's Testament wouldn't "
                          "be read to the full congress, and why did Trotsky sit there?")
    assert not [v for v in asked if v.status == "contradicted"], asked
    assert [v for v in checker.check("the testament was read to the full congress") if v.status == "contradicted"]
    own = checker.check("if i had to write one sentence in my essay on whether the testament in may 1924 was the "
                        "turning point, would it be fair to say it wasnt really")
    assert not [v for v in own if v.kind == "wrong_date"], own
    assert [v for v in checker.check("i think lenin wrote the testament in 1924") if v.kind == "wrong_date"]


def test_a_list_of_doings_dates_each_and_a_post_thought_about_is_not_held(checker):
    """Relay trial 75: ", siding with Bukharin against the United Opposition" took the 1924 of the clause
    before it (the opposition did not exist yet), and "nobody, Lenin included, thought of the General
    Secretary as the top job" was read as Lenin holding the post."""
    listed = checker.check("putting forward Socialism in One Country in late 1924 so Trotsky looked like the man who "
                           "didn't believe in Russia, siding with Bukharin against the United Opposition, and then "
                           "the switch in 1928.")
    assert not [v for v in listed if v.status == "contradicted"], listed
    thought = checker.check("In 1922 nobody, Lenin included, thought of the General Secretary as the top job.")
    assert not [v for v in thought if v.claim.subject == "lenin"], thought
    assert [v for v in checker.check("lenin was general secretary") if v.status == "contradicted"]


@pytest.mark.parametrize("sentence, status", [
    # Relay trials 74-75: claims about people and historians that the course settles went without a verdict.
    ("Tomsky was at least in the Cheka at some point", "contradicted"),
    ("i filed carr as the anti-stalin view", "contradicted"),
    ("deutscher was pro-stalin", "contradicted"),
    ("deutscher was a soviet historian", "contradicted"),
    ("deutscher was not a soviet historian", "supported"),
    ("carr was not anti-stalin", "supported"),
])
def test_the_courses_word_on_tomsky_carr_and_deutscher(checker, sentence, status):
    assert [v.status for v in checker.check(sentence) if v.fact_id.startswith("denials.")] == [status]


def test_a_what_if_and_another_mans_absence_are_no_claims_about_the_funeral(checker):
    """Offline trial 15: "like if trotsky went 2 the funeral wld he of won" was corrected as a claim that he went,
    and "stalin did the oath n trotsky missed the funeral" as a claim that Stalin missed it."""
    assert not checker.check("like if trotsky went to the funeral wld he of won")
    assert not checker.check("ohh so stalin did the oath n trotsky missed the funeral lol")
    assert [v.status for v in checker.check("trotsky went to the funeral")] == ["contradicted"]
    assert [v.status for v in checker.check("stalin missed the funeral")] == ["contradicted"]


def test_a_writing_verb_after_the_year_does_not_date_the_work(checker):
    """Relay trial 76: "testament read to delegations may 1924 not published til 1956" dated the Testament's
    writing to 1924 by the later "published"."""
    said = checker.check("testament read to delegations may 1924 not published til 1956, z and k saved stalin")
    assert not [v for v in said if v.status == "contradicted"], said
    assert [v for v in checker.check("the testament was written in 1924") if v.kind == "wrong_date"]


def test_a_possessive_that_owns_something_else_is_no_authorship(checker):
    """Relay trial 77: "the Testament was Stalin's most dangerous moment" was evidence that Stalin wrote it."""
    assert not checker.check("the Testament was Stalin's most dangerous moment")
    assert [v.status for v in checker.check("socialism in one country was stalin's")] == ["supported"]
    assert [v.status for v in checker.check("socialism in one country was stalin's big idea")] == ["supported"]
    assert [v.status for v in checker.check("grey blur was trotsky's, not sukhanov's")] == ["contradicted"]

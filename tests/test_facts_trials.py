"""Issue 22 items 6-7: the fact base decides what students in the blind trials got wrong
(corpus/eval/trials/2026-12-06-*), both ways: each false paraphrase is caught with its source, and
its true counterpart is never flagged. The student-style set corpus/eval/claims_students.jsonl was
written before the checker was tuned for it; its floors are the issue's."""

from __future__ import annotations

import json

import pytest

from tutor.facts import FactChecker, load_facts
from tutor.lessons import corpus_doc_ids

from conftest import CORPUS

STUDENTS = CORPUS / "eval" / "claims_students.jsonl"
FALSE_CAUGHT_FLOOR = 0.85
TRUE_FLAGGED_CEILING = 0.02


@pytest.fixture(scope="module")
def facts():
    return load_facts(CORPUS, corpus_doc_ids(CORPUS))


@pytest.fixture(scope="module")
def checker(facts):
    return FactChecker(facts)


# (false paraphrase, the document its correction cites, a word of the correction, the true version)
PAIRS = [
    ("Trotsky was Lenin's brother-in-law", "person-kamenev", "Kamenev",
     "Kamenev was Trotsky's brother-in-law"),
    ("NEP was Stalin's idea", "idea-nep-and-industrialisation", "Lenin",
     "NEP was brought in by Lenin in 1921"),
    ("the reds lost the civil war", "person-trotsky", "won", "Trotsky built the Red Army that won the Civil War"),
    ("Bukharin opposed NEP from the start", "person-bukharin", "defender",
     "Bukharin became the leading defender of NEP after 1921"),
    ("Trotsky missed Lenin's funeral because he was already in exile in Alma-Ata", "overview-trotskys-mistakes",
     "Caucasus", "Trotsky missed Lenin's funeral because he was travelling to the Caucasus"),
    ("trotsky was in exile when lenin died", "overview-trotskys-mistakes", "1928",
     "trotsky was not in exile when lenin died"),
    ("the testament named Trotsky as his successor", "overview-power-struggle", "no successor",
     "the testament named no successor"),
    ("Lenin wanted Stalin to take over because he was the most loyal", "overview-power-struggle", "no successor",
     "Lenin didn't want Stalin to take over"),
    ("The Central Committee decided to publish the Testament", "event-testament-not-acted-on", "unpublished",
     "The Central Committee decided not to publish the Testament"),
    ("the testament was read out to everyone and published", "event-testament-not-acted-on", "",
     "the testament was published in the New York Times in 1926"),
    ("Trotsky recanted at the 15th Congress in 1927", "event-trotsky-exile-and-deportation", "refused",
     "Zinoviev and Kamenev recanted at the 15th Congress in 1927"),
    ("Bukharin was shot in 1929", "person-bukharin", "1938", "Bukharin was shot in 1938"),
    ("Zinoviev was shot in 1927", "person-zinoviev", "1936", "Zinoviev was shot in 1936"),
    ("Trotsky declined to be Lenin's deputy in 1924", "event-triumvirate", "1922",
     "Trotsky declined to be Lenin's deputy in 1922"),
    ("Tomsky lost the trade unions in 1925", "person-bukharin", "1929", "Tomsky lost the trade unions in 1929"),
    ("The Kronstadt sailors rose against Stalin", "event-ban-on-factions", "Bolshevik rule",
     "the kronstadt sailors rose against the bolsheviks in 1921"),
    ("trotsky got exiled right after lenin died", "event-trotsky-exile-and-deportation", "January 1928",
     "Trotsky was exiled four years after Lenin died"),
    ("the testament was read out to everyone", "event-testament-not-acted-on", "each delegation",
     "the testament was read out to every delegation separately"),
    ("Bukharin was expelled from the party in 1927 along with Trotsky", "event-united-opposition", "Zinoviev",
     "Trotsky and Zinoviev were expelled from the party in 1927"),
    ("the triumvirate (stalin zinoviev bukharin) was against trotsky", "event-triumvirate", "Kamenev",
     "the triumvirate (stalin, zinoviev and kamenev) was against trotsky"),
    ("stalin was in charge of the army", "", "", "Trotsky was in charge of the Red Army until 1925"),
    ("Stalin and Trotsky were allies against Zinoviev", "", "", "Stalin and Zinoviev were allies against Trotsky"),
    ("Bukharin was on Trotsky's side in the Left Opposition", "", "", "Bukharin was on Stalin's side in 1926"),
    # relay trial 4
    ("stalin had been general secretary since 1917 so he had years to stack the party", "", "1922",
     "stalin had been general secretary since 1922 so he had years to stack the party"),
    ("the united opposition was trotsky, zinoviev and bukharin", "", "Kamenev",
     "the united opposition was trotsky, zinoviev and kamenev"),
]


@pytest.mark.parametrize("false, doc, needle, true", PAIRS, ids=[p[0][:40] for p in PAIRS])
def test_a_false_paraphrase_is_caught_and_its_true_version_is_not(checker, false, doc, needle, true):
    bad = checker.contradicted(false)
    assert bad, f"not caught: {false}"
    if doc:
        v = next((x for x in bad if x.doc == doc), bad[0])
        assert v.doc == doc and needle in v.correct, v.as_dict()
        assert v.probe.endswith("?")
    assert not checker.contradicted(true), [v.as_dict() for v in checker.contradicted(true)]


@pytest.mark.parametrize("text", [
    "they picked who got jobs, so those people voted for him",
    "Bukharin was allied with Stalin from 1925 to 1928",
    "Bukharin and Zinoviev were allies against Trotsky in 1924",
    "Trotsky was not in Moscow when Lenin died",
    "the testament was published after Stalin died",
    "Trotsky recanted with the United Opposition in October 1926",
    "Stalin ended NEP in 1928-29",
    "Unlike Bukharin, Stalin wanted to end NEP",
    "stalin used the secretariat to put his people in",
    # Found by the student-style set after it was measured: "ganged up on" was read as "allied with".
    "In 1923 Stalin, Zinoviev and Kamenev ganged up on Trotsky",
    # offline trial 5: the true versions of its students' false statements
    "Bukharin defended socialism in one country",
    "Bukharin backed socialism in one country alongside Stalin in 1925-27",
    "Bukharin in fact backed SiOC alongside Stalin in 1925-27, and the split in 1928 was over grain "
    "requisitioning and the pace of industrialisation instead",
    "The 14th Party Conference adopted socialism in one country in April 1925",
    "Zinoviev and Kamenev joined Stalin against Trotsky in 1923",
    "Bukharin was not against socialism in one country",
    "the party adopted socialism in one country in 1925",
    "Zinoviev and Kamenev joined Trotsky in 1926",
    "Zinoviev and Kamenev went over to Trotsky in 1926",
    "Stalin + Zinoviev + Kamenev vs Trotsky",
    "Stalin, Zinoviev and Kamenev teamed up against Trotsky in 1923",
    "Stalin and Bukharin against Zinoviev and Kamenev in 1925",
    "Bukharin led the Right",
    "Trotsky led the Left",
    "Trotsky built the Red Army",
    "Trotsky fought the Whites in the Civil War",
    "Trotsky used former Tsarist officers in the Red Army",
    "Trotsky was not a Tsarist general",
    "Trotsky never tried a coup",
    "Trotsky organised the October 1917 coup",
    "the others feared Trotsky might use the Red Army for a coup",
    "Trotsky was expelled from the party in 1927 for factional activity",
    "Stalin ended NEP in 1928",
    "Lenin introduced NEP in 1921",
    "Lenin did not end NEP",
    "The Central Committee appointed Stalin General Secretary in 1922",
    "Trotsky was deported in 1929",
    "Trotsky was kicked out of the country in 1929",
    "Trotsky was kicked out of the party in 1927",
])
def test_true_statements_near_the_new_facts_are_not_flagged(checker, text):
    assert not checker.contradicted(text), [v.as_dict() for v in checker.contradicted(text)]


def test_a_claim_the_student_takes_back_is_not_judged(checker):
    assert not checker.check("Trotsky was Lenin's brother-in-law. scratch that, i was wrong")
    assert checker.contradicted("Trotsky said grey blur, no wait, Trotsky was killed in 1929")


def test_student_style_claim_set_floors(facts, embedder):
    """≥150 statements, half true, in students' own styles, written before tuning (issue 22 item 7)."""
    from tutor.evaluation.claims import load_claim_cases, run_claims

    cases = load_claim_cases(STUDENTS)
    assert len(cases) >= 150 and sum(c["false"] for c in cases) == sum(not c["false"] for c in cases)
    others = set()
    for name in ("claims", "claims_heldout", "claims_blind"):
        others |= {json.loads(line)["text"].lower()
                   for line in (CORPUS / "eval" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()}
    assert not [c for c in cases if c["text"].lower() in others], "a new set shares no statement with the others"
    m = run_claims(FactChecker(facts, embedder=embedder), cases)["metrics"]
    print("student claims:", json.dumps({k: m[k] for k in ("false_caught", "true_flagged")}))
    assert m["false_caught"] >= FALSE_CAUGHT_FLOOR
    assert m["true_flagged"] <= TRUE_FLAGGED_CEILING


@pytest.mark.parametrize("true_statement", [
    # relay trial 5: each was read as a false claim and forced a faithful model reply to be redone
    "then z and k fell out with stalin over nep and joined trotsky",
    "so trotsky supported NEP and stalin was against it from the start right?",
    "the secretaries were appointed by the Secretariat, so in practice Stalin's people chose them",
    # offline trial 2: the post in "removing him as General Secretary" is his object's, not Lenin's
    "It helped him enormously - Lenin had recommended removing him as General Secretary",
    # relay trial 9: the "not" belongs to the publishing, not to the alliance
    "In May 1924 the Central Committee agreed not to publish it and only read it to delegations, and Zinoviev "
    "and Kamenev backed Stalin staying on.",
    # earlier offline trials: a year belongs to the item after "or", and a list's year to its own item
    "He didn't use them at the 12th Congress or over the Testament in May 1924.",
    # relay trial 17: a denied action is not a denied enmity; a what-if vote is no claim of election
    "Trotsky chose not to attack Stalin over Georgia",
    "probably who sat in the hall because even with the label they couldve won a vote",
    # relay trial 16: looking like the heir is not being named one
    "for the funeral stalin could look like lenins chosen heir, he was a pallbearer",
    # relay trial 12: the 13th Conference, not the October 1923 plenum
    "the 13th Conference in January 1924 condemned them as a factional deviation",
    # offline trial 3: the 1927 alliance is not the later clause's enmity
    "Stalin then allied with Bukharin and the Right, whose press campaign in Pravda helped defeat the United "
    "Opposition, leading to Trotsky and Zinoviev's expulsion in November 1927, before he turned on Bukharin as the "
    "Right Deviation in 1928-29.",
    "a summary of what we covered: General Secretary 1922, the funeral, the 1927 expulsions, Bukharin in 1929.",
    # relay trial 18: it is the student who "always" mixes up left and right, not an alliance of every year
    "and yeah ig bukharin stayed with stalin i always get the left and right mixed up.",
    # offline trial 5: the years date Bukharin's backing of the idea, not the idea
    "Was I wrong? Did Bukharin in fact back SiOC alongside Stalin in 1925-27, and the split in 1928 was over grain "
    "requisitioning and the pace of industrialisation instead?",
])
def test_relay_trial_true_statements_are_not_flagged(checker, true_statement):
    flagged = [v for v in checker.check(true_statement, questions=True) if v.status == "contradicted"]
    assert not flagged, [(v.kind, v.correct) for v in flagged]


def test_before_that_orders_nothing(checker):
    said = ("He was on the Politburo and the Orgburo, and before that he'd been Commissar for Nationalities "
            "and head of Rabkrin.")
    assert not [v for v in checker.check(said) if v.status == "contradicted"]


def test_a_negation_in_the_claims_own_clause_still_counts(checker):
    said = "In 1924 Zinoviev and Kamenev were not allied with Stalin"
    assert [v for v in checker.check(said) if v.status == "contradicted"]


@pytest.mark.parametrize("said, wrong", [
    ("Lenin criticised Stalin's Rabkrin in 1923", False),   # relay trial 9: true, and no date of the post
    ("he was head of Rabkrin from 1919", True),
    ("Stalin was Commissar of Rabkrin in 1919", True),
])
def test_the_rabkrin_date_check_reads_the_post_not_any_sentence_naming_both(said, wrong):
    from tutor.lessons import load_lessons

    found = [e.event.id for e in load_lessons(CORPUS).date_errors(said)]
    assert ("stalin-heads-rabkrin" in found) is wrong


def test_an_always_about_the_alliance_itself_still_counts(checker):
    assert [v for v in checker.check("Stalin and Trotsky were always allies") if v.status == "contradicted"]


def test_a_posts_year_is_the_one_nearest_it_in_its_clause(checker):
    # relay trial 19: Lenin's (wrong) 1926 came first in the clause and dated the post
    said = "lenin died in 1926 and stalin had been general secretary since 1917 so he already had all the power"
    found = {v.fact_id: v.status for v in checker.check(said)}
    assert found.get("offices.general-secretary") == "contradicted"


def test_an_alliance_never_made_is_not_dated_to_the_students_year(checker):
    # relay trial 19: "In 1928 Bukharin was in Stalin's alliance … (1925–1927)" misdated the group
    [v] = [v for v in checker.check("in 1928 bukharin teamed up with trotsky against stalin to save NEP")
           if v.status == "contradicted"]
    assert v.correct.startswith("Bukharin and Trotsky were never allies") and "In 1928" not in v.correct


def test_bukharins_part_in_socialism_in_one_country_is_not_a_misattribution(checker):
    # relay trial 19 (the model's note): Bukharin gave the idea its fuller theory
    assert not [v for v in checker.check("socialism in one country was bukharin's idea") if v.status == "contradicted"]
    assert [v for v in checker.check("socialism in one country was Trotsky's idea") if v.status == "contradicted"]


# Offline trial 5 (corpus/eval/trials/2026-12-07-offline5): false statements its students made, each
# with the document its correction cites and a word the correction must carry.
OFFLINE5_FALSE = [
    ("stalin and trotsky teamed up to get rid of zinoviev and kamenev", "event-triumvirate", "Kamenev"),
    ("but you still didnt say about the alliance. stalin + trotsky vs zinoviev and kamenev, yes or no??",
     "event-triumvirate", "triumvirate"),
    ("Stalin + Trotsky vs Zinoviev and Kamenev", "event-triumvirate", "against Trotsky"),
    ("Bukharin opposed socialism in one country", "person-bukharin", "theory"),
    ("Last bit of my argument: the Right. Bukharin opposed Socialism in One Country, didn't he, which is why "
     "Stalin turned on him in 1928?", "person-bukharin", "1928"),
    ("Zinoviev and Kamenev went over to Bukharin in 1926, didn't they?", "event-ban-on-factions", "United Opposition"),
    ("Zinoviev and Kamenev sided with Bukharin in 1926", "event-ban-on-factions", "United Opposition"),
    ("Trotsky led the Right", "source-declaration-of-46", "Bukharin, Rykov and Tomsky"),
    ("Trotsky was a Tsarist general", "person-trotsky", "Red Army"),
    ("Trotsky was a White general", "person-trotsky", "Commissar of War"),
    ("Trotsky got exiled because he tried a coup that failed, didn't he? That's what my friend said.",
     "event-ban-on-factions", "February 1929"),
    ("Trotsky was exiled because of a failed coup", "event-ban-on-factions", "factional"),
    ("Lenin ended NEP in 1924", "overview-power-struggle", "1928"),
    ("NEP was ended by lenin himself in 1924 before he died", "overview-power-struggle", "1921"),
    ("Stalin was voted in by the people", "overview-power-struggle", "Central Committee"),
    ("people voted for Stalin", "overview-power-struggle", "3 April 1922"),
    ("Trotsky was thrown out of the USSR in 1925", "event-trotsky-exile-and-deportation", "February 1929"),
    ("thats why trotsky got kicked out of the country in 1925 right?", "event-trotsky-exile-and-deportation", "1929"),
    ("he was kicked out of the actual country in 1925, i remember the date", "event-trotsky-exile-and-deportation",
     "1929"),
]


@pytest.mark.parametrize("false, doc, needle", OFFLINE5_FALSE, ids=[p[0][:40] for p in OFFLINE5_FALSE])
def test_offline_trial_5_false_statements_are_corrected_with_their_source(checker, false, doc, needle):
    bad = checker.contradicted(false)
    assert bad, f"not caught: {false}"
    v = next((x for x in bad if x.doc == doc), bad[0])
    assert v.doc == doc and needle in v.correct, v.as_dict()
    assert v.probe.endswith("?")


def test_bukharins_1929_is_not_trotskys_expulsion(checker):
    # relay trial 20: the bare keyword "expelled from the party" dated Bukharin's claim by Trotsky's expulsion
    found = {v.fact_id: v.status for v in checker.check("bukharin got expelled from the party in 1929 and shot")}
    assert found.get("denials.bukharin-not-expelled-1929") == "contradicted"
    assert "timeline.trotsky-zinoviev-expelled" not in found
    assert not [v for v in checker.check("Bukharin was expelled from the Politburo in 1929") if v.status == "contradicted"]


@pytest.mark.parametrize("said, status", [
    # relay trial 21: the year came back to the post in a clause of its own
    ("trotsky lost the war commissariat cos of lessons of october, that was 1926 right?", "contradicted"),
    ("trotsky lost the war commissariat after lessons of october, that was 1925 right?", "supported"),
])
def test_a_year_said_after_the_post_dates_it(checker, said, status):
    found = {v.fact_id: v.status for v in checker.check(said)}
    assert found.get("offices.commissar-war") == status


def test_a_keyword_that_names_its_person_is_not_someone_elses():
    # "Lenin died" names Lenin: the Stalin before it does not make it someone else's event
    from tutor.lessons import load_lessons

    found = [e.event.id for e in load_lessons(CORPUS).date_errors("Stalin won because Lenin died in 1925")]
    assert found == ["lenin-dies"]


@pytest.mark.parametrize("said, status", [
    ("trotsky got killed right after lenin died in 1924", "contradicted"),  # murdered in August 1940
    ("trotsky got exiled straight after lenin died", "contradicted"),       # January 1928
    ("trotsky was exiled after lenin died", "supported"),                  # the order alone is right
])
def test_right_after_claims_a_short_gap_not_only_the_order(checker, said, status):
    found = [v for v in checker.check(said) if v.fact_id.startswith(("timeline.trotsky", "denials.trotsky"))
             or v.kind == "before"]
    assert found and all(v.status == status for v in found), [(v.status, v.fact_id) for v in found]


@pytest.mark.parametrize("said, status", [
    ("the ban on factions in 1921, that was the thing that outlawed the Mensheviks and the other parties",
     "contradicted"),
    ("the ban on factions made it a one-party state", "contradicted"),
    ("the ban on factions banned groups inside the party", None),
])
def test_the_ban_on_factions_was_a_rule_for_party_members(checker, said, status):
    # offline trial 6: "that was the thing that outlawed the Mensheviks, right?" got "my notes don't decide"
    found = [v.status for v in checker.check(said) if v.fact_id == "denials.ban-on-factions-inside-party"]
    assert found == ([status] if status else [])


@pytest.mark.parametrize("said, status", [
    ("they wanted Trotsky EXPELLED in 1925", None),                     # Zinoviev's demand, January 1925
    ("Zinoviev demanded that Trotsky be expelled in 1925", None),
    ("Trotsky was expelled in 1925", "contradicted"),                   # 14 November 1927
])
def test_an_event_someone_wanted_is_not_dated_by_the_wish(checker, said, status):
    # relay trial 25: the model read "they wanted Trotsky EXPELLED in 1925" rightly and named the misreading,
    # but a short sentence's finding cannot be set aside, and the turn fell back to the offline tutor
    found = [v.status for v in checker.check(said) if v.fact_id == "timeline.trotsky-zinoviev-expelled"]
    assert found == ([status] if status else [])


@pytest.mark.parametrize("said, contradicted", [
    # offline trial 7: a student's right correction of her own notes was called wrong, twice
    ("he was NOT killed in 1929, he was exiled to Alma-Ata in 1928 and deported to Turkey in 1929", []),
    ("Trotsky was not killed in 1929, he was exiled to Alma-Ata in 1928", []),
    ("Trotsky was killed in 1929", ["timeline.trotsky-murdered"]),
    # offline trial 7: "missed lenins funeral cos he was in prison" was told "Yes, that matches"
    ("trotsky missed lenins funeral cos he was in prison", ["denials.trotsky-funeral-absence-reason"]),
    ("Trotsky missed Lenin's funeral because he was ill in the Caucasus", []),
])
def test_a_denied_date_is_no_claim_of_it_and_each_event_keeps_its_nearest_year(checker, said, contradicted):
    assert [v.fact_id for v in checker.check(said) if v.status == "contradicted"] == contradicted


@pytest.mark.parametrize("said, caught", [
    # offline trial 7: "General Secretary means he was in charge of the military, right?" was never answered no
    ("General Secretary means he was in charge of the military", True),
    ("as General Secretary Stalin controlled the army", True),
    ("as General Secretary Stalin controlled appointments", False),
])
def test_the_general_secretary_did_not_command_the_army(checker, said, caught):
    found = [v for v in checker.check(said) if v.fact_id == "denials.general-secretary-not-army"]
    assert bool(found) == caught and all(v.status == "contradicted" for v in found)


@pytest.mark.parametrize("said, status", [
    # relay trial 26: a "wasnt" in the sentence's first clause made the evidence "support" the second's error
    ("i guess may 1924 is the one moment the machine wasnt enough - the testament was read out to the whole "
     "13th congress and published", "contradicted"),
    ("the testament was not read out to the whole 13th congress", "supported"),
])
def test_a_negation_reaches_only_its_own_clause(checker, said, status):
    found = {v.status for v in checker.check(said) if v.fact_id == "denials.testament-read-to-delegations"}
    assert found == {status}


@pytest.mark.parametrize("said, caught", [
    # offline trial 8: "the lenin enrolment was when stalin kicked loads of ppl out the party right? like a purge"
    ("the lenin enrolment was when stalin kicked loads of ppl out the party right? like a purge", True),
    ("the Lenin Enrolment was a purge", True),
    ("the Lenin Enrolment brought in about 240,000 new members", False),
])
def test_the_lenin_enrolment_brought_members_in(checker, said, caught):
    found = [v for v in checker.check(said, questions=True) if v.fact_id == "denials.lenin-enrolment-not-purge"]
    assert bool(found) == caught and all(v.status == "contradicted" for v in found)


@pytest.mark.parametrize("said", ["i think i mixed up the trotsky praise with stalin", "i confused trotsky with stalin"])
def test_a_student_mixing_two_people_up_claims_no_alliance(checker, said):
    # relay trial 29: "i think i mixed up the trotsky praise with stalin" read as "Trotsky was with Stalin",
    # refused twice when the model judged it right, and the turn fell back
    assert [v for v in checker.check(said) if v.kind in ("wrong_alliance", "allied_with")] == []


def test_a_count_is_not_a_short_year(checker):
    # offline trial 9: "voted roughly 30 to 10" was read as 1910 and the 13th Congress "corrected"
    said = "a Central Committee plenum just before the 13th Congress voted roughly 30 to 10 not to publish the Testament"
    assert [v for v in checker.check(said) if v.status == "contradicted"] == []
    assert [y for _, y in checker.years("lenin died in '24")] == [1924]


@pytest.mark.parametrize("said, contradicted", [
    # relay trial 30: "I'll add Trotsky's silence over the Testament" was evidence that Trotsky wrote it
    ("I'll add Trotsky's silence over the Testament under the divisions section", []),
    ("Trotsky's Testament", ["quotations.letter-to-the-congress"]),
    ("Trotsky's famous phrase grey blur", ["quotations.grey-blur"]),
])
def test_what_someone_did_about_a_work_is_not_its_authorship(checker, said, contradicted):
    assert [v.fact_id for v in checker.check(said) if v.status == "contradicted"] == contradicted


def test_a_negation_after_the_claim_does_not_deny_it(checker):
    # relay trial 32: "lenin basically picked stalin in his testament … so isnt that the main reason he won?" was
    # evidence that *supports* "Lenin named no successor"
    said = "my notes say lenin basically picked stalin in his testament as the next leader so isnt that the main reason he won?"
    assert {v.status for v in checker.check(said, questions=True) if v.fact_id == "denials.no-successor"} == {"contradicted"}
    assert {v.status for v in checker.check("Lenin never named a successor") if v.fact_id == "denials.no-successor"} \
        == {"supported"}


@pytest.mark.parametrize("said, contradicted", [
    # offline trial 9: each was left unjudged, or "corrected" with a fact about something else
    ("Zinoviev and Kamenev were Mensheviks", ["denials.zinoviev-kamenev-bolsheviks"]),
    ("trotsky was in america when lenin died", ["denials.trotsky-away-when-lenin-died"]),
    ("Trotsky got kicked out of the party in 1925", ["timeline.trotsky-zinoviev-expelled"]),
    ("the Left won the vote at the 15th Congress", []),  # a congress's vote, not "elected by the people"
    ("trotsky was a menshevik before 1917", []),
])
def test_offline_trial_9_claims(checker, said, contradicted):
    assert [v.fact_id for v in checker.check(said) if v.status == "contradicted"] == contradicted
    assert "denials.not-elected-by-people" in [v.fact_id for v in checker.check("Stalin won the election after Lenin died")]


def test_straight_after_is_tested_between_the_events_either_side_of_it(checker):
    # relay trial 33: the order "lenin died … then exiled" was evidence that supports "exiled straight after the funeral"
    said = ("when lenin died in 1924 the party had a vote and stalin got elected as the new leader instead, and then "
            "trotsky got exiled straight after the funeral which is why he lost")
    found = {v.fact_id: v.status for v in checker.check(said) if v.fact_id.startswith("timeline.")}
    assert found.get("timeline.trotsky-exiled-alma-ata") == "contradicted"
    assert "supported" not in {v.status for v in checker.check(said) if v.kind == "before"}


def test_after_lenin_died_he_was_exiled_is_true(checker):
    # the "already in exile when Lenin died" denial read "after lenin died trotsky was exiled" as its claim
    assert [v for v in checker.check("after lenin died trotsky was exiled") if v.status == "contradicted"] == []
    assert [v.fact_id for v in checker.check("when lenin died trotsky was already in exile")
            if v.status == "contradicted"] == ["denials.trotsky-away-when-lenin-died"]


@pytest.mark.parametrize("said, contradicted", [
    # relay trial 33: no evidence decided either, and the model was told to leave them "unsure"
    ("trotsky was part of the workers opposition in 1921 and voted against the ban",
     ["denials.trotsky-voted-for-ban", "denials.trotsky-not-workers-opposition"]),
    ("Trotsky argued against the Workers' Opposition in the trade union debate", []),
    ("trotsky voted for the ban on factions", []),
])
def test_relay_trial_33_claims_about_the_ban(checker, said, contradicted):
    assert sorted(v.fact_id for v in checker.check(said) if v.status == "contradicted") == sorted(contradicted)


def test_it_after_a_named_document_is_that_document(checker):
    # relay trial 34: "what i really dont get is lenins testament. it got read out to the whole congress in 1924
    # and put in pravda" came with no evidence at all, and the model let "read out to the whole congress" pass
    said = ("what i really dont get is lenins testament. it got read out to the whole congress in 1924 and put in "
            "pravda so everyone knew lenin wanted stalin removed.")
    found = [v for v in checker.check(said) if v.status == "contradicted"]
    assert {v.fact_id for v in found} == {"denials.testament-read-to-delegations", "denials.testament-unpublished-ussr"}
    assert all(v.sentence.startswith("it got read out") for v in found)  # the student's own sentence
    assert [v for v in checker.check("the testament was long. it was 1924 when it came out")
            if v.status == "contradicted"] == []


@pytest.mark.parametrize("said, correct", [
    # offline trial 10: "The United Opposition of Trotsky, Zinoviev and Kamenev (1926–1927) was Trotsky, Zinoviev and
    # Kamenev" corrected "formed in 1924"
    ("when the United Opposition of Trotsky, Zinoviev and Kamenev formed in 1924, it was easily outvoted",
     "The United Opposition of Trotsky, Zinoviev and Kamenev belongs to 1926–1927, not 1924."),
    ("bukharin was in the united opposition",
     "The United Opposition of Trotsky, Zinoviev and Kamenev (1926–1927) was Trotsky, Zinoviev and Kamenev, never Bukharin."),
])
def test_a_group_named_for_its_members_is_corrected_by_what_the_name_does_not_say(checker, said, correct):
    assert {v.correct for v in checker.check(said) if v.status == "contradicted"} == {correct}


def test_the_x_vs_y_thing_is_a_topic_not_a_claim(checker):
    # relay trial 34: "im doing the stalin vs trotsky thing for my essay" was evidence that supports "Stalin against Trotsky"
    assert checker.check("hey so im doing the stalin vs trotsky thing for my essay and i dont get one thing.") == []
    assert checker.check("it was stalin vs trotsky in 1924")  # still a claim where it is said as one


@pytest.mark.parametrize("said, status", [
    # offline trial 10: "was the 5 yr plan 1921 or not" asked three times, and "voted in like a president"
    ("the 5 yr plan was in 1921", "contradicted"),
    ("the first five-year plan began in 1928", "supported"),
    ("the five year plan was adopted in 1929", "supported"),
    ("i thought stalin was voted in like a president after lenin", "contradicted"),
])
def test_offline_trial_10_claims(checker, said, status):
    assert status in {v.status for v in checker.check(said)}
    assert not (status == "supported" and any(v.status == "contradicted" for v in checker.check(said)))


@pytest.mark.parametrize("said, expected", [
    # relay trial 34's evidence: "contradicts" on a true triumvirate, "supports" on a sacking two years early,
    # and a correction of "by 1926 … had lost the war commissariat"
    ("I'd say it wasn't planned purely as a Stalin move, because Zinoviev and Kamenev were in the triumvirate "
     "with him and backed it too", set()),
    ("i think stalin turned on them, he sacked zinoviev as leningrad boss in 1924", {"offices.leningrad-head"}),
    ("so by 1926 trotsky had lost the war commissariat (to frunze not kamenev, noted)", set()),
    ("trotsky lost the war commissariat in 1926", {"offices.commissar-war"}),
])
def test_relay_trial_34_evidence(checker, said, expected):
    assert {v.fact_id for v in checker.check(said) if v.status == "contradicted"} == expected


def test_a_dates_in_links_no_one_to_a_group(checker):
    # relay trial 36: "when stalin took it in 1926 the new opposition had no base left" put Stalin in the New
    # Opposition, and the model's right verdict was refused twice
    assert [v for v in checker.check("when stalin took it in 1926 the new opposition had no base left")
            if v.status == "contradicted"] == []
    assert [v.fact_id for v in checker.check("stalin was in the new opposition") if v.status == "contradicted"] \
        == ["groups.new-opposition"]


def test_a_negation_before_a_clause_break_and_an_and_does_not_reach_the_alliance(checker):
    # offline trial 11: "Huh, OK, so 1927 not 1924, and Bukharin was actually with Stalin until Stalin turned on him"
    # was told "Not quite"
    said = "Huh, OK, so 1927 not 1924, and Bukharin was actually with Stalin until Stalin turned on him."
    assert [v for v in checker.check(said) if v.status == "contradicted"] == []


def test_a_year_before_when_dates_the_post_and_a_dash_ends_a_clause(checker):
    # relay trial 36: "the key date is April 1922, when Stalin became General Secretary - combined with the Ban on
    # Factions at the 10th Congress in March 1921" was evidence that contradicts (the post dated 1921)
    said = ("My starting view is that the key date is April 1922, when Stalin became General Secretary - combined "
            "with the Ban on Factions at the 10th Congress in March 1921, it gave him control of appointments.")
    assert [v for v in checker.check(said) if v.status == "contradicted"] == []
    assert [v.fact_id for v in checker.check("the key date is 1924, when Stalin became General Secretary")
            if v.status == "contradicted"] == ["offices.general-secretary"]


@pytest.mark.parametrize("said, contradicted", [
    # relay trial 37: "he" after a conjunction, in a sentence opened by one rival, is that rival; the model was
    # left to say "not covered by the passages I have here" of both
    ("so basically stalin won because he'd been general secretary since 1917 right after the revolution so he had "
     "years to put his people everywhere, and then in 1924 he brought in NEP which made him popular with the peasants.",
     {"offices.general-secretary", "denials.nep-was-lenins"}),
    ("stalin attacked trotsky because he was a threat", set()),  # two rivals named: "he" stays unresolved
    ("Lenin wrote that he was too rude", set()),
])
def test_he_after_a_conjunction_is_the_rival_the_sentence_opens_with(checker, said, contradicted):
    assert {v.fact_id for v in checker.check(said) if v.status == "contradicted"} == contradicted


def test_every_contradicted_verdict_can_be_probed(checker):
    # relay trial 39: "trotsky was kicked out of the party right after lenin died in 1924" crashed the turn: its
    # "right after" verdict had no probe, and the misconception built from it refused an empty one
    import json

    from tutor.settings import PROJECT_ROOT

    said = ["trotsky was kicked out of the party right after lenin died in 1924"]
    for name in ("claims_students", "claims", "claims_blind", "claims_heldout"):
        path = PROJECT_ROOT / "corpus" / "eval" / f"{name}.jsonl"
        said += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for sentence in said:
        for v in checker.check(sentence):
            if v.status == "contradicted":
                assert v.as_misconception().probe, sentence


def test_the_lenin_enrolment_names_no_lenin(checker):
    # relay trial 39: "the lenin enrolment … gen sec job" was evidence that Lenin was never General Secretary,
    # and the model's right verdict was refused
    assert [v for v in checker.check("the lenin enrolment depended on the general secretary")
            if v.status == "contradicted"] == []
    assert [v.fact_id for v in checker.check("lenin was general secretary") if v.status == "contradicted"] \
        == ["offices.general-secretary"]

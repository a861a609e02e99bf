"""The offline tutor answers what a student asks (issue 22): a message split into its acts, each
direct question answered in the tutor's own words with its citation, pushback heard, a verdict only
where a check decides it, and a supporting passage never framed as an objection. On the real
corpus store and fact base."""

from __future__ import annotations

import re

import pytest

from tutor.engine import Tutor
from tutor.pedagogy.answer import declaratives, message_parts
from tutor.services import build
from tutor.settings import load_settings
from tutor.store import Store


@pytest.fixture(scope="module")
def tutor(corpus_home, embedder) -> Tutor:
    settings = load_settings(home=corpus_home, llm="offline", rate_limit_per_minute=0)
    return build(settings, store=Store(settings, embedder), chat_model=None).tutor


def _talk(tutor: Tutor, *messages: str):
    session = tutor.new_session()
    return [tutor.reply(session, m) for m in messages]


# -- reading a message into its acts (no store needed) ----------------------------------------------
@pytest.mark.parametrize("message, kinds", [
    ("you didn't answer. who was in the united opposition? i think trotsky was exiled in 1924",
     ["pushback", "question", "claim"]),
    ("he had bukharin backing him so he had more votes i guess?? but u still didnt answer who the united "
     "opposition was", ["confirm", "pushback", "question"]),
    ("the right deviation?? idk the posts", ["guess", "topic"]),
    ("Can you explain the Lenin Enrolment? Was that Stalin bringing in new members who'd vote for him?",
     ["question", "question"]),
    ("i still dont get who was in charge after lenin died", ["question"]),
    ("wait so he got deported in 1929, where did he go??", ["claim", "question"]),
    ("He was sent to Alma-Ata, where he lived for a year.", ["claim"]),
])
def test_a_message_is_split_into_its_acts(message, kinds):
    assert [p.kind for p in message_parts(message)] == kinds


def test_a_topic_fills_the_pronoun_of_the_question_after_it():
    parts = message_parts("Wait, actually, what about the NEP — wasn't that Stalin's idea?")
    assert [p.text for p in parts if p.kind == "question"] == ["wasn't the NEP Stalin's idea"]


def test_an_embedded_if_question_keeps_its_statement_for_the_fact_checker():
    [push, question] = message_parts("but u didnt say if bukharin was w trotsky or not??")
    assert push.pushback == "unanswered"
    assert question.statement == "bukharin was w trotsky"


def test_a_yes_no_question_has_statement_forms_for_the_fact_checker():
    assert "lenin's testament named a successor" in declaratives("did lenin's testament name a successor")
    assert "the NEP was Stalin's idea" in declaratives("was the NEP Stalin's idea")


# -- answers through the real engine -----------------------------------------------------------------
def _stated(reply) -> str:
    """The reply without quotations: what the tutor says in its own voice."""
    return re.sub(r"“[^”]*”", "", reply.text)


@pytest.mark.parametrize("question, must", [
    ("who was in the united opposition?", r"Zinoviev.*Kamenev|Kamenev.*Zinoviev"),
    ("when was the ban on factions passed?", r"1921"),
    ("what was the lenin enrolment?", r"Lenin Enrolment"),
    ("who was Kirov?", r"Kirov"),
    # Whose a phrase or an idea is (offline trial 11: "does not come from Trotsky", and a definition).
    ("who said grey blur?", r"Sukhanov said it of Stalin, about 1917"),
    ("i mean which 1 of them had socialism in 1 country??", r"It was Stalin's: socialism in one country was set out in "
                                                           r"December 1924"),
    # A "where" is answered by a place; ", where did he go??" after a claim is its own question (offline trial 12).
    ("wait so he got deported in 1929, where did he go??", r"Turkey"),
    # The posts a person held, dated from the fact base: the nearest sentence was "Joseph Stalin also
    # held two government posts." alone.
    ("what post did stalin have?", r"Stalin was People's Commissar for Nationalities .* and General Secretary of the "
                                   r"party from 3 April 1922"),
    ("what was trotsky's job?", r"Trotsky was People's Commissar of War from 1918 to January 1925"),
])
def test_a_direct_question_gets_a_direct_cited_answer_in_the_tutors_voice(tutor, question, must):
    [reply] = _talk(tutor, question)
    assert re.search(must, _stated(reply)), reply.text
    assert re.search(r"\[1\]", reply.text) and reply.citations, reply.text
    assert not re.search(r"One source in your course materials says|Look at this passage", reply.text)
    assert reply.text.rstrip().endswith("?")  # one question back, at the end
    assert reply.text.count("?") == 1, reply.text


@pytest.mark.parametrize("question", ["what did stalin do to win?", "what post did they fight over?"])
def test_only_a_question_about_one_persons_posts_gets_the_list_of_posts(tutor, question):
    [reply] = _talk(tutor, question)
    assert "People's Commissar for Nationalities" not in reply.text, reply.text


def test_the_question_after_an_answer_does_not_ask_what_was_just_said(tutor):
    """Offline trial 11's grey-blur answer was followed by the card's "Which Menshevik memoirist wrote
    about 1917 that Stalin was a 'grey blur' …?"."""
    [reply] = _talk(tutor, "who said grey blur?")
    question = reply.text.rsplit(". ", 1)[-1]
    assert "grey blur" not in question.lower() and "memoirist" not in question.lower(), reply.text


def test_a_yes_no_question_the_fact_base_decides_is_answered_no_with_the_correction(tutor):
    [reply] = _talk(tutor, "did lenin's testament name a successor?")
    assert reply.text.startswith(("No", "Actually, no")), reply.text
    assert "successor" in reply.text
    assert "don't settle" not in reply.text and "can't give a firm" not in reply.text


def test_a_yes_no_question_about_an_election_is_answered_no_once(tutor):
    """Offline: the question got an unrelated sentence, then "Stalin was never chosen by a popular vote.
    No popular vote made Stalin leader." (the card's correction and the fact base's, both)."""
    [reply] = _talk(tutor, "so did stalin just win an election after that? like people voted for him?")
    assert reply.text.startswith(("No", "Actually, no")), reply.text
    assert reply.text.lower().count("popular vote") == 1, reply.text


def test_every_question_of_a_multi_question_message_is_answered(tutor):
    [_, reply] = _talk(tutor, "hi, I'm revising the 1920s",
                       "Can you explain the Lenin Enrolment? And when was the ban on factions passed?")
    assert "Lenin Enrolment" in _stated(reply) and "1921" in _stated(reply), reply.text
    assert reply.move["answered"] == 2 and reply.move["kind"] == "answer_question"


def test_pushback_is_heard_and_the_earlier_question_answered(tutor):
    replies = _talk(tutor, "who was in the united opposition? and what was the lenin enrolment?",
                    "you didn't answer my question")
    last = replies[-1]
    first_sentence = re.split(r"(?<=[.!?])\s", last.text, maxsplit=1)[0]
    assert len(first_sentence.split()) <= 8, last.text  # heard in a few words
    assert "[1]" in last.text and last.move["answered"] >= 1, last.text


def test_a_wrong_claim_beside_a_question_is_corrected_and_the_question_answered(tutor):
    [reply] = _talk(tutor, "trotsky was exiled in 1924 right? and who was in the united opposition?")
    assert "1928" in reply.text, reply.text          # the correction, with the right date
    assert re.search(r"Zinoviev|Kamenev", reply.text), reply.text
    assert not re.search(r"\b(Yes|That's right|Correct)\b", reply.text)


def test_a_claim_no_check_decides_gets_an_honest_line_never_a_confirmation(tutor):
    [reply] = _talk(tutor, "trotsky was arrogant thats why he lost, right?")
    assert re.search(r"can't confirm|yes or no|don't settle|decides that|yours to judge|decide that one|guess a yes", reply.text), reply.text
    assert not re.search(r"\b(You're right|That's right|Correct)\b", reply.text)


def test_a_passage_that_supports_the_student_is_not_framed_as_an_objection(tutor):
    [_, reply] = _talk(tutor, "hi", "Lenin's postscript said Stalin was too rude and should be removed as "
                                    "General Secretary, right?")
    assert not re.search(r"say otherwise|Not so|Careful|isn't right|Not quite|objection", reply.text), reply.text


def test_the_newcomers_first_question_gets_a_start_not_a_correction(tutor):
    [reply] = _talk(tutor, "Why was Lenin's Testament not acted on in 1924?")
    assert not re.search(r"Not so|say otherwise|course checks don't settle|Actually, no", reply.text), reply.text
    assert "[1]" in reply.text


def test_the_overall_argument_is_still_not_handed_over(tutor):
    [reply] = _talk(tutor, "just tell me why stalin won")
    assert reply.move["kind"] == "decline_and_scaffold"


def test_no_stock_formula_twice_in_a_conversation(tutor):
    replies = _talk(tutor, "who was Kirov?", "what was the lenin enrolment?", "when was the ban on factions passed?",
                    "who was in the united opposition?", "was the NEP Stalin's idea?")
    closers = [re.split(r"(?<=[.!\]])\s+", r.text)[-1] for r in replies]
    assert len(set(closers)) == len(closers), closers


# -- the second blind offline trial's unanswered questions (2026-12-06-offline2) -------------------------
@pytest.mark.parametrize("question, wanted", [
    # "what was X" / "who was X": the sentence that says what X was, not one that mentions it
    ("what was Rabkrin?", "set up to inspect the state machine"),
    ("what was the Lenin Enrolment?", "mass recruitment campaign"),
    ("who led the Comintern?", "Zinoviev was chairman of the Communist International"),
    ("who was Rykov?", "chaired the government"),
    # a guess after a comma is the student's; what a body did is what it was
    ("what was the secretariat, was it just typists?", "ran the party's day-to-day business"),
    # "what did X say?" gets what it said, not when it was published
    ("what did the declaration of the 46 demand?", "secretarial hierarchy"),
])
def test_a_what_was_question_gets_the_sentence_that_defines_it(tutor, question, wanted):
    [reply] = _talk(tutor, question)
    assert wanted in reply.text
    assert not reply.text.startswith("Since ")


def test_a_yes_no_question_with_or_not_gets_a_plain_no_and_the_date(tutor):
    [reply] = _talk(tutor, "did Trotsky join the Bolsheviks in 1903 or not?")
    assert reply.text.startswith("No")
    assert "1917, not 1903" in reply.text


def test_stalin_having_been_a_bolshevik_since_1903_is_not_corrected_by_trotskys_date(tutor):
    [reply] = _talk(tutor, "Stalin had been a Bolshevik since 1903, right?")
    assert "1917, not 1903" not in reply.text


def test_a_yes_no_question_made_of_a_cards_words_is_answered_not_taken_for_the_cards_question(tutor):
    # "did stalin kill zinoviev and kamenev?" shares its words with "Why did Zinoviev and Kamenev first
    # ally with Stalin …?" but asks a fact: the card's misconception answers it.
    [reply] = _talk(tutor, "did stalin kill zinoviev and kamenev in the 1920s?")
    assert reply.text.startswith("No")
    assert "politically" in reply.text


def test_a_fight_between_the_leaders_is_the_course_not_off_it(tutor):
    """Offline trial 3: "Why was it such a big fight between the leaders…?" matched the frame for
    "who would win a fight between…" and a question about NEP was sent off the course."""
    [reply] = _talk(tutor, "Hi! I'm studying the power struggle after Lenin for AP Euro. First thing: I don't really "
                           "get NEP. Why was it such a big fight between the leaders if Lenin had already brought it in?")
    assert reply.move.get("act") != "off_topic" and "outside what I can help" not in reply.text, reply.text
    [reply] = _talk(tutor, "who would win a fight between stalin and napoleon")
    assert reply.move.get("act") == "off_topic"


def test_a_request_for_straight_facts_gets_the_facts(tutor):
    """Offline trial 3: "was trotsky killed? what happened to him? just give me straight facts" heard
    "I won't just tell you"; facts are never held back, only the argument."""
    [reply] = _talk(tutor, "ugh just give me straight facts. did stalin kill zinoviev and kamenev in the 1920s?")
    assert "I won't" not in reply.text and "politically" in reply.text, reply.text


def test_a_confirmation_names_what_it_confirms_and_a_date_alone_confirms_no_more(tutor):
    """Offline trial 4: "Yes, that's correct." after an answer about the Georgian affair read as a yes
    to "was it Stalin who ordered the Romanovs executed?"; "You're right: 13th Party Congress" confirmed
    a whole claim on the congress's date."""
    from tutor.pedagogy.answer import Answerer

    [reply] = _talk(tutor, "the ban on factions meant you could be accused of factionalism if you organised a group, right?")
    assert not re.search(r"(?:^|\. )(?:That's right|Yes, that's correct|Correct)\.", reply.text), reply.text
    answerer: Answerer = tutor.responder.answerer
    decided = answerer.decide("was the Testament read out at the 13th Congress in 1924 and did the delegates "
                              "just choose to ignore it?")
    assert decided is None or decided[0] != "yes", decided


@pytest.mark.parametrize("message, kind", [
    ("Maybe May 1924 was a turning point for his survival rather than his victory? Survival and victory "
     "aren't the same thing.", ""),  # the student's own argument (relay trial 17), not a complaint
    ("you keep saying the same thing", "repeated"),
    ("that's the same summary again", "repeated"),
])
def test_a_complaint_of_repetition_is_the_tutors_repetition_not_the_students_words(message, kind):
    from tutor.pedagogy.acts import pushback_of

    assert pushback_of(message) == kind


# -- the seventh blind offline trial's replays ------------------------------------------------------
@pytest.mark.parametrize("message, kinds", [
    # A remark about the student is not a topic: joined to the question, it steered the answer away.
    ("i honestly dont know much. wasnt stalin just lenins chosen successor?", ["other", "question"]),
    ("but theres so many names here lol. who was trotsky?", ["other", "question"]),
    ("the lenin enrolment. what was it?", ["question"]),  # a topic still fills the pronoun
    ("Bukharin was removed from the Politburo in November 1929, yes?", ["confirm"]),  # ", yes?" is a tag
])
def test_a_remark_about_the_student_is_not_a_topic(message, kinds):
    assert [p.kind for p in message_parts(message)] == kinds


def test_a_question_after_a_remark_about_the_student_gets_its_own_answer(tutor):
    [reply] = _talk(tutor, "hi um i have a short answer due about why stalin took power after lenin. i honestly "
                           "dont know much. wasnt stalin just lenins chosen successor like his right hand man?")
    assert re.search(r"did not choose a successor|no agreed successor|named no successor", reply.text), reply.text


def test_he_in_a_claim_is_the_person_the_question_before_it_named(tutor):
    [reply] = _talk(tutor, "who was trotsky? i thought he got killed right after lenin died in 1924")
    assert "1940" in reply.text and "not straight after" in reply.text, reply.text
    assert "‘i thought he got killed" in reply.text or "he got killed" in reply.text  # the student's own words


def test_a_yes_or_no_question_about_the_person_just_named_gets_its_no(tutor):
    # offline trial 7: "I asked about Trotsky … Was he killed in 1929, yes or no?" got a sentence about exile
    [reply] = _talk(tutor, "I asked about Trotsky being expelled in 1927 and killed in 1929. I need to know if that's "
                           "correct. Was he killed in 1929, yes or no?")
    assert re.search(r"\bno\b", reply.text, re.I) and "1940" in reply.text, reply.text


def test_he_is_never_confirmed_by_a_fact_about_someone_else(tutor):
    # offline trial 8: "But my bigger point is Bukharin. He was on the Left with Trotsky, wasn't he?" got
    # "Yes, that's correct. Trotsky was on the party's left."
    [reply] = _talk(tutor, "I'll grant that Stalin was seen as a boring admin guy in 1922. But my bigger point is "
                           "Bukharin. He was on the Left with Trotsky, wasn't he? They teamed up against Stalin in "
                           "1925-27 and lost together.")
    assert not re.search(r"\b(?:Yes|correct|right)\b", reply.text.split(".")[0]), reply.text
    assert "Right" in reply.text, reply.text  # Bukharin led the Right


def test_a_yes_no_question_whose_readings_disagree_is_not_answered_no(tutor):
    # offline trial 9: "was the Genghis Khan comparison Bukharin's, as recorded by Kamenev?" got "Actually, no"
    # and then the fact that it was Bukharin's
    [reply] = _talk(tutor, "was the Genghis Khan comparison Bukharin's, as recorded by Kamenev?")
    assert not re.match(r"\W*(?:No|Actually, no|Not quite)\b", reply.text), reply.text


@pytest.mark.parametrize("message", ["what was the ban on factions?", "what was the lenin enrolment",
                                     "who was Bukharin and why did he lose?", "who was bukharin",
                                     "when did trotsky get exiled"])
def test_the_question_after_an_answer_is_a_cards_question_not_a_stock_line(tutor, message):
    """Offline trial 9: 'Where would you fit that into your argument?' closed 7 of 82 replies. After an
    answer the question back is one of the cards' own, on what was asked, and not one the answer
    just settled ('Where did the rule against organised groups come from?' after the 10th Congress)."""
    [reply] = _talk(tutor, message)
    closing = re.split(r"(?<=[.\]])\s+", reply.text.strip())[-1]
    hints = {h.text for card in tutor.lessons.cards for h in card.hints}
    assert closing in hints, reply.text
    assert closing not in tutor.prompts.offline["turn"]["follow_up"]
    assert closing != "Where did the rule against organised groups inside the party come from?"
    assert closing != "What happened to the size of the party soon after Lenin died?"


def test_a_sentence_that_names_the_person_but_not_what_was_asked_is_not_the_answer(tutor):
    """Offline trial 10: a question the course does not answer got a sentence about the person asked of,
    stated as the answer, and after "you didn't answer" the same sentence under "let me answer that properly"."""
    first, again = _talk(tutor, "how tall was kamenev?", "you didn't answer my question")
    assert re.match(r"(?:The sources don't answer that directly|I can't find a direct answer)", first.text), first.text
    assert not re.search(r"answer that properly|straight answer", again.text), again.text
    [kirov] = _talk(tutor, "who was Kirov?")
    assert kirov.text.startswith("Sergei Kirov was"), kirov.text  # a definition names no more than it is asked


@pytest.mark.parametrize("message, off_topic", [
    ("when did trotsky get exiled", "funeral"),
    ("why did zinoviev and kamenev protect stalin?", "unpatriotic"),
])
def test_the_question_after_an_answer_is_the_nearest_in_meaning(tutor, message, off_topic):
    """Offline trial 12: two words in common chose the card question, and an answer on Trotsky's exile was
    followed by "Which rival played a leading part at the funeral…?"."""
    [reply] = _talk(tutor, message)
    closing = re.split(r"(?<=[.\]])\s+", reply.text.strip())[-1]
    assert off_topic not in closing, reply.text


# Offline trial 14's lost and text-speak students: questions the course's records answer went unanswered.
@pytest.mark.parametrize("messages, wanted", [
    (["who were trotsky zinoviev kamenev and bukharin??"], ["Trotsky", "Zinoviev", "Kamenev", "Bukharin"]),
    (["but what do you mean by the left and the right, werent they all communists?"], ["The Left were", "The Right were"]),
    (["um i still dont know who trotsky actually was like what was his job??"], ["Commissar of War"]),
    (["who was trotsky?", "ok and what was his actual job?"], ["Commissar of War"]),
    (["what was bukharin's actual job then?"], ["editor of Pravda"]),
    (["what was trotskys idea then, was it like world revolution or smth"], ["Permanent revolution"]),
    (["tell me about trotsky", "so what happened 2 him in 1927 then"], ["November 1927", "expelled from the party"]),
])
def test_a_question_the_courses_records_answer_gets_that_answer(tutor, messages, wanted):
    replies = _talk(tutor, *messages)
    for w in wanted:
        assert w in replies[-1].text, replies[-1].text
    assert "[1]" in replies[-1].text


def test_a_basically_who_were_question_is_a_question_and_a_congress_span_reads_plainly(tutor):
    """Offline trial 15: "basically who even were trotsky zinoviev kamenev and bukharin??" got "Yes, that's
    correct" and a line about the Testament; the 14th Congress was dated "from 18 December 1925 to 31 December
    1925"."""
    [reply] = _talk(tutor, "hi um i missed most of the lessons on this. basically who even were trotsky zinoviev "
                           "kamenev and bukharin?? i only know lenin and stalin")
    assert not reply.text.startswith(("Yes", "You're right", "That's right")), reply.text
    assert all(name in reply.text for name in ("Trotsky", "Zinoviev", "Kamenev", "Bukharin")), reply.text
    from tutor.lessons import TimelineEvent
    span = TimelineEvent(id="x", date="1925-12-18", end="1925-12-31", precision="span", event="e", keywords=["e"],
                         docs=["d"])
    assert span.when == "18–31 December 1925"

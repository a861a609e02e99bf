"""Direct answers to a student's direct questions, offline (issue 22).

A message often holds several acts at once — a complaint ("you didn't answer"), two questions
and a claim. :func:`message_parts` splits it into sentences and clauses and labels each;
:class:`Answerer` answers one question from the course: a yes/no question through the fact base
and the timeline where they decide it, otherwise by picking the sentence of the retrieved passages
that answers it (meaning, by the embedding model, plus the question's focus terms — names, events —
and its shape: a "when" answer holds a date, a "who" answer a person). The answer is stated in
the tutor's own voice with its citation number: the corpus passages are the project's own words.

>>> parts = message_parts("you didn't answer. who was in the united opposition? i think trotsky was exiled in 1924")
>>> [p.kind for p in parts]
['pushback', 'question', 'claim']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from tutor.lessons import _MONTHS, PERSON_NAME
from tutor.pedagogy.acts import COMPLAINT, normalise, pushback_of
from tutor.pedagogy.checks import BARE_EVENT_WORDS
from tutor.pedagogy.compose import _LEANS_BACK, _META, sentences
from tutor.retrieval import tokenize
from tutor.store import Passage

_WH = r"who|what|when|where|why|how|which|whose|whom|whats|what'?s"
_AUX = (r"is|was|were|did|does|do|are|has|had|have|could|would|can|should|will|isn'?t|wasn'?t|weren'?t|didn'?t|"
        r"doesn'?t|don'?t|hasn'?t|hadn'?t")
_LEAD = r"^\W*(?:(?:so|and|but|ok(?:ay)?|oh+|wait|then|hmm+|um+|erm+|uh+|also|sorry|fine|right|well|anyway|actually|basically|" \
        r"honestly|literally|seriously|like|plus|" \
        r"ngl|tbh|lol|ah|yeah|no|please|pls|i mean|i meant|my question is|my q is)\b[\s,.!:]*)*"
QUESTION_OPENING = re.compile(_LEAD + rf"(?:{_WH}|{_AUX}|tell me (?:about|what|who|why|how|when)|explain|describe|"
                              r"(?:can|could) (?:you|u) (?:explain|tell me|say|describe))\b", re.I)
YES_NO = re.compile(_LEAD + rf"(?:{_AUX})\b", re.I)
# "who said grey blur?", "which 1 of them had socialism in 1 country": asks whose a phrase or idea is.
# A place after a preposition, as a "where" question's answer has one (offline trial 12 got a sentence
# without one): a capitalised word that is no party body and no month.
_PLACE = re.compile(r"\b(?:to|in|at|from|on)\s+(?:the\s+)?(?!Soviet|Party|Central|Politburo|Congress|"
                    + "|".join(_MONTHS) + r")[A-Z][a-z]+")
_WHO_AUTHOR = re.compile(_LEAD + r"(?:who|which(?: one| 1| person| leader| man| guy)?(?: of (?:them|the two|the rivals|those))?)"
                         r"\s+(?:actually\s+|really\s+|first\s+|originally\s+|even\s+)?(?:said|says|came up with|coined|"
                         r"wrote|had|has|wanted|believed in|invented|proposed|put forward|was behind|thought up|called|"
                         r"described|stood for|backed|pushed|was for|is behind|did|came out with|developed)\b", re.I)
# "…, right?", "is that right?": asks for a verdict on a claim, not for information.
CONFIRM_ONLY = re.compile(r"^\W*(?:(?:so|and|but|ok(?:ay)?)\W+)*(?:is that (?:right|correct|true|it|fair|ok(?:ay)?)|am i right|"
                          r"was i right|right|correct|true|yeah|yes|innit|no|or not|yes or no|is it|isn'?t it|"
                          r"was it|wasn'?t it|does that work|is that a fair summary|really)"
                          r"(?:\s+(?:though|tho|then|now|yes or no))?\W*$", re.I)
TAG = re.compile(r"[\s,]*\b(?:right|correct|true|yeah|yes|innit|is that (?:right|correct|true|it)|isn'?t it|wasn'?t it|"
                 r"didn'?t (?:he|they|she)|wasn'?t (?:he|she)|weren'?t they|am i right|yes or no|or not)\W*$", re.I)
COMPARE = re.compile(r"\b(vs\.?|versus|difference between|compared (?:to|with))\b", re.I)
_SPLIT = re.compile(r"(?<=[.!?])\s+|\s+so\s+(?=(?:does|did|do|is|was) (?:that|this|it) mean\b)|\?+\s*|\n+|\s+[—–]\s+|\s+-\s+|;\s+|\s*[\U0001F300-\U0001FAFF\u2600-\u27BF]+\s*|"
                    r"[,:]\s+(?:(?:so|but|and|then|like)\s+)?(?=(?:who|what|when|why|how|which|did|was|were|is)\s)|"
                    # "he got deported in 1929, where did he go??" (offline trial 12); "…, where he lived" is no question
                    r"[,:]\s+(?:(?:so|but|and|then|like)\s+)?(?=where\s+(?:did|do|does|was|were|is|are)\s)", re.I)
# "you didn't answer who the united opposition was", "u didnt say if he was w trotsky or not"
_EMBEDDED = re.compile(r"\b(?:answer(?:ed)?|say|said|tell (?:me|us)|explain(?:ed)?|ask(?:ed)?)\s+(?:me\s+)?"
                       r"(?P<q>(?:if|whether|who|what|when|why|how|which)\b.+)$", re.I)
_WAS_I_RIGHT = re.compile(r"\b(?:was|am|were) i (?:right|correct|wrong)\s+(?:about|abt|on|that|with)\s+(?P<c>.+?)"
                          r"(?:\s+or not\b.*)?$", re.I)
_UNANSWERED = re.compile(r"\b(?:you|u)\s+(?:still\s+|just\s+)?(?:didn'?t|did not|never|haven'?t|have not|skipped|ignored)\s*"
                         r"(?:(?:say|answer|tell (?:me|us)|explain|reply)\b|$|\s*(?:my|the|that|it|both|all|every|"
                         r"any|what|whether|if)\b)", re.I)
_GUESS = re.compile(r"^\W*(?:(?:oh+|so|ok|ah+|hmm+|um+|er+|erm+)\W+)*(?:is|was) it\s+(?P<g>[\w' ]{2,30})$", re.I)
_DONT_GET = re.compile(r"^\W*(?:(?:and|also|but|so)\s+)*(?P<t>(?:the\s+)?[\w' ]{3,40}?),.*\b(?:don'?t|do not|didn'?t)\s+"
                       r"(?:really\s+|quite\s+)?(?:get|understand)\b", re.I)
_BACK_TO = re.compile(r"\b(?:back to|about|abt)\s+(?P<t>(?:the\s+)?[\w']+(?:\s+[\w']+){0,3})\W*$", re.I)
_WANTS_TO_KNOW = re.compile(r"\b(?:don'?t|do not|didn'?t)\s+(?:(?:really|quite|even|actually|fully)\s+){0,2}(?:get|know|understand|see)\s+"
                            r"(?P<q>(?:who|what|why|how|when|where|which|whether|if)\b.+)$", re.I)
_PRONOUN = re.compile(r"\b(it|that|this|they|them)\b", re.I)
_ABOUT_ME = re.compile(r"^\W*(?:(?:ok(?:ay)?|but|and|so|um+|uh+|well|honestly)\W+)*(?:i|i'm|im|i've|ive|me|my|we|"
                       r"there'?s|there are|it'?s|that'?s|this is)\b", re.I)
_TOPIC_LEAD = re.compile(r"^\W*(?:(?:ok(?:ay)?|but|and|also|so|please|wait|actually|fine|and also|going back to|"
                         r"what about|how about|back to)\b[\s,]*)+", re.I)
_VERB = re.compile(r"\b(is|was|were|are|be|been|had|has|have|did|does|do|could|would|should|can|will|said|thought|"
                   r"got|made|went|took|gave|lost|won|wanted|used|called|helped|led|ran|saw|knew|became|put|"
                   r"picked|voted|killed|exiled)\b|\w{3,}(?:ed|ied)\b", re.I)
_FILLER = re.compile(r"^\W*(?:i think|i guess|i believe|i'?m pretty sure|pretty sure|i reckon|my notes say|"
                     r"i thought|i feel like|maybe)\b[\s,]*", re.I)
_ABOUT = re.compile(r"\b(?:about|abt)\s+(?P<topic>(?:the\s+)?[\w' ]{3,40})$", re.I)
# Talk about the task, not the history: "hi so our teacher gave us the handout", "i read most of it",
# "hey, doing the anglo-russian committee handout now" (the handout trial took the greeting as the claim).
_ABOUT_THE_TASK = re.compile(r"^\W*(?:hi|hey|hello|hiya|yo)\b|\b(?:teacher|sir|miss|prof\w*) (?:gave|set|handed|sent)\b|"
                             r"\b(?:doing|reading|finished|on|read) (?:the|this|our|my) [\w' -]{0,50}\b(?:handout|worksheet|"
                             r"reading|sheet)\b(?: now)?\W*$|^\W*(?:and\s+)?i(?:'ve| have)? read (?:most|all|half|some|bits)?"
                             r"(?: of)? ?(?:it|the \w+)\W*$", re.I)
# "what post did stalin have?", "what was trotsky's job?", "which offices did bukharin hold": the posts
# a person held, which the fact base dates (not "what did stalin do to win?").
_POST_WORDS = r"(?:posts?|jobs?|positions?|offices?|roles?|titles?)"
_POSTS_Q = re.compile(_LEAD + rf"(?:(?:what|which)\s+{_POST_WORDS}\s+(?:did|does|do|had|has)\b|"
                      rf"what\s+(?:was|were|is|are)\s+(?:[\w ]{{3,30}}?'?s|his)\s+(?:main\s+|actual\s+|official\s+|real\s+)?{_POST_WORDS}"
                      rf"(?:\s+(?:then|again|exactly|tho|though|in the 1920s|at the time))?\W*$)",
                      re.I)
# "what was trotskys idea then", "what was Stalin's big idea?"
_WHOSE_IDEA = re.compile(_LEAD + r"what\s+(?:was|were|is|are)\s+(?P<who>[a-z]{4,})'?s\s+(?:own\s+|main\s+|big\s+|actual\s+)?"
                         r"(?:idea|theory|plan|answer|alternative|slogan)s?\b", re.I)
# "who trotsky actually was like what was his job??": the posts question after the first one.
_POSTS_TAIL = re.compile(r"\s+(?=(?:like|and|or|i mean)\s+what\b)|,\s*")
_WDYM = re.compile(r"^\W*(?:wdym|what do you mean|huh|what)\W*$", re.I)


@dataclass(frozen=True)
class Part:
    """One act inside a message: question | confirm (a claim with "right?") | claim | pushback | other."""

    kind: str
    text: str
    pushback: str = ""
    statement: str = ""   # a yes/no question's declarative form, where the message gives it ("if he was …")


SHORTLIST = 12  # candidate sentences embedded per question (ranked first by shared words); with the
# question that stays within the embedder's QUICK_BATCH, so a one-question `tutor ask` never loads torch
_ANNOUNCES = re.compile(r"(?::\s*$|\b(?:reasons?|causes?|ways?|several|two|three|four|these|following|"
                        r"as follows|steps|stages|factors|grounds)\b)", re.I)


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" ,.;:-—–")


def message_parts(message: str) -> list[Part]:
    """The message's acts in order. A question mark or a question word marks a question; a
    statement with a tag ("…, right?") is a claim to confirm; a complaint about the last reply is
    pushback; any other statement with a verb is a claim."""
    text = normalise(message)
    out: list[Part] = []
    pieces = []
    pos = 0
    for m in _SPLIT.finditer(text):
        pieces.append((text[pos:m.start()], "?" in m.group(0)))
        pos = m.end()
    pieces.append((text[pos:], False))
    for raw, asked in pieces:
        piece = _clean(raw)
        if not piece:
            continue
        if CONFIRM_ONLY.match(piece):
            # "…. right?" on its own: the claim before it is to be confirmed.
            if out and out[-1].kind == "claim":
                out[-1] = Part("confirm", out[-1].text)
            continue
        right = _WAS_I_RIGHT.search(piece)
        if right:
            claim = re.sub(r"\bbeing\b", "was", right.group("c"), flags=re.I)
            # "was I right about the funeral?" names a topic, not a claim: nothing to judge in it.
            out.append(Part("confirm" if len(claim.split()) >= 3 else "other", claim))
            continue
        push = "unanswered" if _UNANSWERED.search(piece) else pushback_of(piece)
        if push or _WDYM.match(piece) or (COMPLAINT.search(piece) and len(piece.split()) <= 12):
            out.append(Part("pushback", piece, push or "complaint"))
            embedded = _EMBEDDED.search(piece)
            rest = _after_pushback(piece)
            if embedded:
                q = embedded.group("q").strip()
                m = re.match(r"(?:if|whether)\s+(.+?)(?:\s+or not)?$", q, re.I)
                out.append(Part("question", q, statement=m.group(1) if m else ""))
            elif rest and QUESTION_OPENING.match(rest):
                out.append(Part("question", rest))  # "you skipped my thing about who shut it down"
            elif rest:
                out.append(Part("topic", rest))  # "you didn't answer about the NEP": the topic they want answered
            continue
        wants = _WANTS_TO_KNOW.search(piece)
        if wants and not QUESTION_OPENING.match(piece):
            # "i still dont get who was in charge after lenin died": a question, said as a statement.
            q = wants.group("q").strip()
            m = re.match(r"(?:if|whether)\s+(.+?)(?:\s+or not)?$", q, re.I)
            out.append(Part("question", q, statement=m.group(1) if m else ""))
            continue
        unclear = _DONT_GET.match(piece)
        if unclear:
            out.append(Part("question", f"what was {unclear.group('t').strip()}"))  # "the Lenin Enrolment, I don't get it"
            continue
        guess = _GUESS.match(piece)
        if guess and len(guess.group("g").split()) <= 2 and "'" not in guess.group("g"):
            out.append(Part("guess", guess.group("g")))  # "is it bukharin??": an answer offered, not a question
            continue
        if QUESTION_OPENING.match(piece) or (asked and COMPARE.search(piece)):
            if asked and TAG.search(piece) and not QUESTION_OPENING.match(TAG.sub("", piece)):
                out.append(Part("confirm", _clean(TAG.sub("", piece))))
            else:
                out.append(Part("question", piece))
            continue
        if asked:
            stripped = _clean(TAG.sub("", piece))
            if (_VERB.search(stripped) or len(stripped.split()) >= 6) and len(stripped.split()) >= 3:
                # "so then in 1927 the soviets shut the committee down after the arcos raid?": a claim to
                # confirm, though its verb is none the list knows; a guess is a word or two.
                out.append(Part("confirm", stripped))
            elif re.search(rf"\b(?:{_WH})\b", stripped, re.I):
                out.append(Part("question", piece))  # "trotsky + who?"
            else:
                out.append(Part("guess", stripped))  # "the right deviation?", "pravda?": an answer offered
            continue
        if _ABOUT_THE_TASK.search(piece) and not _YEAR.search(piece):
            out.append(Part("other", piece))
            continue
        if _VERB.search(piece) and len(piece.split()) >= 4:
            tagged = TAG.search(piece) and not re.search(r"\bthe\s+right\W*$", piece, re.I)
            out.append(Part("confirm", _clean(TAG.sub("", piece))) if tagged else Part("claim", piece))
        elif piece:
            # "i honestly don't know much", "there's so many names here" are not topics: joined to the question
            # after it, it steered the answer to another sentence (the sixth blind offline trial).
            topic = len(piece.split()) <= 6 and not _ABOUT_ME.search(piece)
            out.append(Part("topic" if topic else "other", piece))
    return _merge_topics(out)


def _merge_topics(parts: list[Part]) -> list[Part]:
    """"what about the NEP — wasn't that Stalin's idea?": the topic fills the pronoun of the
    question after it ("wasn't the NEP Stalin's idea"), and is not asked separately."""
    out: list[Part] = []
    for part in parts:
        prev = out[-1] if out else None
        back = _BACK_TO.search(prev.text) if prev is not None else None
        if back and part.kind in ("claim", "confirm", "question") and re.match(r"^\W*it\b", part.text, re.I):
            # "can we go back to lenins testament. it got read out to everyone": it is the Testament.
            part = Part(part.kind, re.sub(r"^\W*it\b", back.group("t"), part.text, count=1, flags=re.I),
                        part.pushback, part.statement)
        if part.kind == "question" and prev is not None and prev.kind in ("topic", "question", "other") \
                and len(prev.text.split()) <= 7 and _PRONOUN.search(part.text) \
                and (prev.kind != "question" or re.match(r"^\W*(?:what|how) about\b", prev.text, re.I)):
            topic = _TOPIC_LEAD.sub("", prev.text).strip()
            if topic and not _PRONOUN.fullmatch(topic):
                out[-1] = Part("question", _PRONOUN.sub(topic, part.text, count=1), statement=part.statement)
                continue
        if part.kind == "question" and prev is not None and prev.kind == "topic":
            # "And on the funeral: was Trotsky in Alma-Ata …?": the topic says what the question is about.
            topic = _TOPIC_LEAD.sub("", re.sub(r"^\W*(?:and\s+)?on\s+", "", prev.text, flags=re.I)).strip()
            if topic and len(topic.split()) <= 5:
                out[-1] = Part("question", f"{part.text} ({topic})", statement=part.statement)
                continue
        out.append(part)
    return out


def _after_pushback(piece: str) -> str:
    m = _ABOUT.search(piece)
    return m.group("topic").strip() if m else ""


# A lead-in that announces the claim ("quick one: stalin became general secretary in april 1922"): the
# offline trial 14 student's true date went unconfirmed, its two extra words past a bare event's length.
_LEAD_IN = re.compile(r"^\W*(?:(?:a |one )?(?:quick|last|next|first|another|final|one more|other)\s*(?:one|q|qu?estion|thing|"
                      r"point|check)?|next|also|q)\s*[:\-–—]\s*", re.I)


def claim_text(text: str) -> str:
    """A claim without "I think" or a question tag: what it asserts."""
    text = re.sub(r"^\W*(?:(?:but|and|so|oh+|ok(?:ay)?|wait|then|also|well|yeah|hmm+)\b[\s,]*)+", "", text, flags=re.I)
    text = _LEAD_IN.sub("", text)
    text = re.sub(r"\bw\b(?=\s+\w)", "with", text)
    return _clean(TAG.sub("", _FILLER.sub("", text)))


# -- answering one question ------------------------------------------------------------------
_YEAR = re.compile(r"\b1[89]\d\d\b")
# A statement form that no question reads as: a verb after an article or a preposition ("the was
# Genghis Khan…"), a past tense made of one ("aed", "ined").
_GARBLED = re.compile(r"\b(?:the|a|an|of|in|on|to|by|as|at)\s+(?:was|were|is|are|had|has)\b|"
                      r"\b(?:a|an|the|in|of|on|to|by|as|at)ed\b", re.I)
_PERSON = re.compile(r"\b[A-Z][a-z]{2,}(?:ov|ev|in|sky|skii|ich|ikov|insky)?\b")
_STOP = frozenset("""the a an of to in on and or but was were is are did does do what who when why how which that this
it its he she they them his her their there about with for from at by as be been had has have not no yes so just
like really actually then also party""".split())
# Openings that lean on the sentence before them ("Another is that …", "The post looked …").
_LEANS_ON = re.compile(r"^(?:another|a (?:second|third|fourth|further)|one (?:view|argument|answer) is|the (?:post|job|office|"
                       r"change|result|move|letter|point|decision|answer|problem|same|first|second|other)s?\b)", re.I)
_BECAUSE = re.compile(r"\b(because|reasons?|feared|fears?|since|so that|in order to|hoped|wanted|thought|saw (?:him|it) as)\b",
                      re.I)
_EVERYWHERE = frozenset({"stalin", "lenin", "parti", "party", "power"})
# A question's own verbs and fillers: what it asks, not what it is about.
_ASKING = frozenset(tokenize("happen happened become became do did does done get got go went make made mean means "
                             "exactly really actually like thing things stuff role matter mattered important "
                             "explain tell know think say said work worked end ended start started use used "
                             "lose lost win won manage managed deal dealt come came take took want wanted going"))
STATED_MIN = 0.34   # below this the best sentence is only "the closest the sources come"


@dataclass
class Answer:
    """A question and the answer given to it: the stated text (with [n] filled in by the
    composer), the passage it comes from, and how sure the pick is."""

    question: str
    text: str
    passage: Passage | None
    verdict: str = ""         # yes | no for a yes/no question a check decided
    sure: bool = True
    sentence: str = ""        # the passage sentence(s) stated
    quote: str = ""           # the passage's own sentence cited, where the stated text is not one (a definition)


def question_shape(question: str) -> str:
    low = question.lower()
    m = re.search(rf"\b({_WH})\b", low)
    if m:
        w = m.group(1).replace("'", "")
        return {"whats": "what", "whose": "who", "whom": "who"}.get(w, w)
    if YES_NO.match(question):
        return "yesno"
    return "what"


def focus_terms(question: str) -> set[str]:
    """The words of a question that name what it is about (not its question words)."""
    return {t for t in tokenize(question) if t not in _STOP and len(t) >= 3}


def names_in(text: str) -> set[str]:
    return {m.group(0) for m in re.finditer(r"\b[A-Z][a-z]{3,}\b", text)} - {
        "The", "This", "That", "These", "Those", "When", "After", "Before", "From", "Between", "During", "With",
        "January", "February", "March", "April", "June", "July", "August", "September", "October", "November",
        "December", "Party", "Congress", "Central", "Committee", "Soviet", "Union", "Russia", "Russian", "Some", "Most",
        "Many", "Historians", "Lenin", "Stalin"}


def _when(date: str) -> str:
    """'on 3 April 1922', 'in March 1921', 'from 8 March 1921 to 16 March 1921'."""
    parts = re.split(r"\s*[–-]\s*", date)
    if len(parts) == 2:
        return f"from {parts[0]} to {parts[1]}"
    return ("on " if re.match(r"\d{1,2} ", date) else "in ") + date


def _dated_when(when: str) -> str:
    """ "autumn 1924" reads as "in autumn 1924" after a verb; "about 1917, in his memoir …" stands."""
    bare = re.match(r"(?:early|late|mid|spring|summer|autumn|winter|january|february|march|april|may|june|july|"
                    r"august|september|october|november|december|\d)", when, re.I)
    return f"in {when}" if bare else when


class Answerer:
    """Answers a question from the course: facts first (a yes/no question's declarative form
    through the fact checker and the timeline), then the passage sentence that answers it."""

    def __init__(self, retriever, lessons, facts=None, embedder=None, kept=None, glossary=None):
        self.retriever = retriever
        self.lessons = lessons
        self.facts = facts
        # The course glossary (tutor.glossary.Glossary): "what is X?" gets what X is, not a
        # sentence that only mentions it.
        self.glossary = glossary
        self.embedder = embedder
        # The passages' sentences' vectors kept between processes (a KeptVectors, for the offline model).
        self.kept = kept

    def _embed(self, texts: list[str], sentences: set[str] = frozenset()) -> np.ndarray | None:
        """Vectors for ``texts``; the passages' ``sentences`` among them may come from the kept vectors."""
        if self.embedder is None or not texts:
            return None
        if self.kept is not None:
            return np.asarray(self.kept.embed(self.embedder, texts, sentences), dtype=np.float32)
        vecs = self.embedder.embed_documents(texts)
        return np.asarray(vecs, dtype=np.float32)

    @staticmethod
    def _shortlist(pool: list[tuple[Passage, str]], question: str, shape: str) -> list[tuple[Passage, str]]:
        """The candidates worth embedding: those sharing most words with the question, and of the
        question's shape (a reason for "why", a year for "when"), in their order. Embedding every
        sentence of ten passages cost `tutor ask` ten CPU seconds a turn."""
        if len(pool) <= SHORTLIST:
            return pool
        wanted = set(tokenize(question))
        said = said_term(question)

        def fit(p: Passage, sentence: str) -> float:
            shaped = (shape == "why" and _BECAUSE.search(sentence)) or (shape == "when" and _YEAR.search(sentence))
            # What a document said is rarely worded like the question ("what did it say?" → "it said
            # 'Stalin is too rude'").
            told = 2.5 if said and _says(said, sentence, f"{p.title} {p.section or ''}") else 0.0
            return len(wanted & set(tokenize(sentence))) + (1.5 if shaped else 0.0) + told

        overlap = [fit(p, s) for p, s in pool]
        keep = sorted(range(len(pool)), key=lambda i: (-overlap[i], i))[:SHORTLIST]
        return [pool[i] for i in sorted(keep)]

    def decide(self, question: str, statement: str = "") -> tuple[str, str] | None:
        """A yes/no question the fact base or the timeline decides: ('no', correction) or
        ('yes', fact). "X or Y" questions are not yes/no."""
        if statement:
            return self._decide(re.sub(r"\bw\b", "with", statement), question)
        # "Was he killed in 1929, yes or no?" is the yes/no question without its tag.
        question = re.sub(r"[\s,]*\b(?:yes or no|or not)\W*$", "", question.strip(), flags=re.I)
        if not YES_NO.match(question) or re.search(r"\bor\b(?! not\b)", question, re.I):
            return None
        statement = re.sub(r"\s+or not$", "", question.strip().rstrip("?"), flags=re.I)
        statement = re.sub(_LEAD, "", statement, flags=re.I)
        for form in declaratives(statement):
            if _GARBLED.search(form):
                # "the was Genghis Khan comparison Bukharin's…" is no reading of the question: it read
                # Kamenev as the speaker, and offline trial 9 answered "Actually, no", then confirmed it.
                continue
            found = self._decide(form, question)
            if found:
                return found
        return None

    def _decide(self, statement: str, question: str) -> tuple[str, str] | None:
        focus = focus_terms(question) | focus_terms(course_words(question))

        def on_point(fact: str) -> bool:
            # A fact on another part of the sentence ("the Testament was written by Lenin") does not
            # answer "did the Testament name a successor?".
            return len(_stems(focus) & _stems(tokenize(fact))) >= max(1, (len(focus) + 1) // 2)
        for e in self.lessons.date_errors(statement):
            from tutor.pedagogy.turn_reply import _when

            return "no", f"{e.event.told} {_when(e.correct)}, not {e.stated_year}."
        found = self.lessons.misconceptions_in(statement)
        # The card's probe names what the misconception is about ("were Trotsky, Zinoviev and Kamenev
        # killed?") where its correction speaks of "his rivals".
        if found and found[0][1].verdict != "partly" and on_point(f"{found[0][1].why_wrong} {found[0][1].probe}"):
            return "no", _first_clause(found[0][1].why_wrong, focus)
        if self.facts is None:
            return None
        verdicts = self.facts.check(statement, questions=True)
        bad = [v for v in verdicts if v.status == "contradicted" and v.correct and on_point(v.correct)]
        if bad:
            return "no", _sentence(bad[0].correct)
        # A timeline match supports only the date of a bare event: "was the Testament read out at the
        # 13th Congress in 1924 and the delegates just chose to ignore it?" is not answered "yes" by the
        # congress's date (the fourth blind offline trial).
        good = [v for v in verdicts if v.status == "supported" and on_point(v.correct or v.passage)
                and (v.kind != "happened_in" or len(statement.split()) <= BARE_EVENT_WORDS)]
        if good and not any(v.status == "contradicted" for v in verdicts):
            return "yes", _sentence(good[0].correct or good[0].passage)
        return None

    def _attributed(self, question: str, docs) -> Answer | None:
        """Whose a phrase, a work or an idea is, where the question asks who ("who said grey blur?",
        "which 1 of them had socialism in 1 country??"): the fact base's author and date, cited to the
        passage that states it (offline trial 11 answered the first "does not come from Trotsky" and the
        second with the idea's definition)."""
        if self.facts is None or docs is not None or not _WHO_AUTHOR.match(question):
            return None
        base = self.facts.facts
        quoted = [m for m in self.facts.mentions(question.lower()) if m.kind == "quote"]
        if not quoted:
            return None
        quote = next(x for x in base.quotations if x.id == quoted[0].id)
        name = base.name(quote.author)
        if quote.kind == "idea":
            text = f"It was {name}'s: {quote.text} was {quote.when}"
        elif quote.kind in ("wrote", "work"):
            text = f"{name} wrote it, {_dated_when(quote.when)}"
        else:
            about = f" of {base.name(quote.about)}" if quote.about else ""
            text = f"{name} said it{about}, {_dated_when(quote.when)}"
        return self._stated(question, text, quote.support, quote.doc)

    def _stated(self, question: str, text: str, support: str, doc: str) -> Answer | None:
        """``text`` as the answer, cited to the passage of ``doc`` that holds ``support`` and to its
        sentence sharing most words with it; None where the document has no such passage."""
        found = self.retriever.search(support, k=1, doc_id=doc)
        if not found:
            return None
        wanted = set(tokenize(support))
        cited = max(sentences(found[0].text), key=lambda s: len(wanted & set(tokenize(s))), default="")
        return Answer(question, text, found[0], "", True, text, cited)

    def _define(self, question: str, docs) -> Answer | None:
        """The glossary's definition of what ``question`` asks about, cited to a passage of the
        document that states it; None where the glossary has no entry or the turn keeps to a
        teacher's documents. Asked again, the definition is given again: a "fresh" sentence about
        the thing is the one that only mentions it. The leak guard is not asked: a definition
        states what a thing is, which the student asked for, and the glossary's test keeps each
        one short of a card's argument."""
        if self.glossary is None or docs is not None:
            return None
        entry = self.glossary.lookup(question)
        if entry is None:
            return None
        return self._stated(question, entry.definition, entry.definition, entry.source)

    def each_defined(self, question: str, docs) -> list[Answer]:
        """One short answer per term where a definitional question names a list of them ("who were
        trotsky zinoviev kamenev and bukharin??", "what do you mean by the left and the right"): each
        definition's first sentence, cited to its own source. Offline trial 14's lost student was
        told about Bukharin alone, then of the Left alone. [] for any other question."""
        if self.glossary is None or docs is not None:
            return []
        entries = self.glossary.lookup_all(question)
        if len(entries) < 2:
            return []
        found = [self._stated(question, sentences(e.definition)[0] if sentences(e.definition) else e.definition,
                              e.definition, e.source) for e in entries]
        return [a for a in found if a is not None] if all(found) else []

    def _posts(self, question: str, docs, context: str = "") -> Answer | None:
        """The posts the fact base dates for the one person ``question`` asks about ("what post did
        stalin have?", "what was trotsky's job?", "who trotsky actually was like what was his job??"),
        in order, cited to the passage that states the latest: the nearest passage sentence was "Joseph
        Stalin also held two government posts." alone. "his" is the one person ``context`` names last."""
        if self.facts is None or docs is not None:
            return None
        asked = next((m for m in (_POSTS_Q.match(piece) for piece in _POSTS_TAIL.split(question)) if m), None)
        if asked is None:
            return None
        people = {m.id for m in self.facts.mentions(question.lower()) if m.kind == "person"}
        if not people and re.search(r"\b(?:his|he|him)\b", question, re.I):
            named = [m for m in self.facts.mentions(context.lower()) if m.kind == "person" and m.id != "lenin"]
            people = {named[-1].id} if named else set()
        if len(people) != 1:
            return None
        who = next(iter(people))
        held = sorted(((o, h) for o in self.facts.facts.offices for h in o.holders if h.person == who),
                      key=lambda x: x[1].start)
        if not held:
            return None
        # "Editor of Pravda" is a title in a list of offices, a job in a sentence: "was editor of Pravda".
        posts = [f"{re.sub(r'^(Head|Editor|Chairman) ', lambda m: m.group(1).lower() + ' ', o.name)} {h.span}"
                 for o, h in held]
        listed = posts[0] if len(posts) == 1 else f"{', '.join(posts[:-1])} and {posts[-1]}"
        text = f"{self.facts.facts.name(who)} was {listed}"
        return self._stated(question, text, held[-1][1].support, held[-1][1].doc)

    def _idea(self, question: str, docs) -> Answer | None:
        """The idea the fact base gives one person ("so what was trotskys idea then, was it like world
        revolution or smth": offline trial 14 answered with the literary discussion), in the
        glossary's words where it defines the idea, cited to its source."""
        if self.facts is None or docs is not None:
            return None
        asked = _WHOSE_IDEA.match(question)
        if asked is None:
            return None
        people = {m.id for m in self.facts.mentions(asked.group("who").lower()) if m.kind == "person"}
        ideas = [x for x in self.facts.facts.quotations if x.kind == "idea" and x.author in people]
        if len(people) != 1 or not ideas:
            return None
        idea = ideas[0]
        entry = self.glossary.lookup(f"what is {idea.text}") if self.glossary is not None else None
        if entry is not None:
            first = sentences(entry.definition)[0] if sentences(entry.definition) else entry.definition
            return self._stated(question, first, entry.definition, entry.source)
        name = self.facts.facts.name(idea.author)
        return self._stated(question, f"{name}'s idea was {idea.text}, {_dated_when(idea.when)}", idea.support, idea.doc)

    def _fate(self, question: str, docs, context: str = "") -> Answer | None:
        """What became of someone, from the timeline ("so what happened 2 him in 1927 then": his
        expulsions; offline trial 14 answered with the Clemenceau thesis), dated, cited to the
        passage that states the first event."""
        if self.lessons is None or docs is not None or YES_NO.match(question.strip()):
            return None  # "was he killed in 1929?" is decided yes or no, with its date
        events = self.lessons.fate_asked(question, context)
        if not events:
            return None
        told = "; ".join(f"{_when(e.when)} {e.told}" for e in events[:3])
        return self._stated(question, told[:1].upper() + told[1:], events[0].event, events[0].docs[0])

    def candidates(self, query: str, passages: list[Passage], docs: frozenset[str] | None = None
                   ) -> list[tuple[Passage, str]]:
        """Sentences of the turn's passages and of the best passages for ``query``; ``docs`` keeps
        the search to a teacher's documents when the turn teaches one (a plan or a published card)."""
        hits = [p for p in passages if docs is None or p.doc_id in docs]
        seen = {p.id for p in hits}
        if docs is None:
            found = self.retriever.search(query[:500], k=6)
        else:
            # Searched within the document itself: a handout's five passages are rarely among the
            # course's best six, and a neighbour's sentence is no answer about the handout.
            found = [h for d in sorted(docs) for h in self.retriever.search(query[:500], k=4, doc_id=d)]
        for p in found:
            if p.id not in seen:
                hits.append(p)
                seen.add(p.id)
        out = []
        kept: set[str] = set()
        for p in hits:
            if p.kind == "skills":
                continue
            all_s = sentences(p.text)
            for i, s in enumerate(all_s):
                words = len(s.split())
                if words < 6 or words > 60 or _META.search(s) or s.startswith(("-", "*", "|", "#")) \
                        or s.rstrip().endswith("?"):
                    continue  # a document's own discussion question is not evidence for anything
                if _LEANS_BACK.match(s) or _LEANS_ON.match(s):
                    if i == 0:
                        continue
                    prev = all_s[i - 1]
                    if len(prev.split()) + words > 70 or _LEANS_BACK.match(prev):
                        continue
                    s = f"{prev} {s}"
                elif words <= 14 and i + 1 < len(all_s) and _ANNOUNCES.search(s):
                    # "Zinoviev and Kamenev had clear reasons for protecting Stalin in May 1924." opens
                    # the matter; the sentence after it says what they were. A short sentence that
                    # announces nothing stands alone ("Kirov became the head of the Leningrad party
                    # organisation." took "The Politburo was reshaped…" with it). One whose sequel is
                    # too long to join is no answer alone ("Joseph Stalin also held two government
                    # posts." was the whole reply to "what post did stalin have?").
                    if len(all_s[i + 1].split()) > 55 or _META.search(all_s[i + 1]):
                        continue
                    s = f"{s} {all_s[i + 1]}"
                if s not in kept:  # overlapping passages repeat a sentence: one candidate each
                    kept.add(s)
                    out.append((p, s))
        return out

    def answer(self, question: str, passages: list[Passage], *, context: str = "", docs: frozenset[str] | None = None,
               avoid: set[str] | None = None, statement: str = "", leaks=None, asked: bool = True) -> Answer:
        """The answer to ``question``; ``context`` (the conversation's last exchange) resolves
        "it" and "he" for the search; ``avoid`` holds sentences already stated (a fresh one is
        preferred). ``asked=False``: a claim's nearest evidence, which need not repeat its words."""
        q = question.strip()
        glossed = self._attributed(q, docs) or self._idea(q, docs) or self._define(q, docs) or self._posts(q, docs, context) \
            or self._fate(q, docs, context)
        if glossed is not None:
            return glossed
        shape = question_shape(q)
        focus = focus_terms(q)
        thin = len(focus) <= 1 or bool(re.search(r"\b(it|that|this|they|he|him|them|those)\b", q, re.I))
        query = f"{q} {context}" if thin and context else q
        # A student's everyday words for what the course names otherwise ("leave the country" is
        # "deported"): the course's word joins the search and the question's focus.
        extra = course_words(q)
        if extra:
            query = f"{query} {extra}"
            focus |= focus_terms(extra)
        decided = self.decide(q, statement)
        pool = self.candidates(query, passages, docs)
        if leaks is not None:
            # The facts asked for, not the argument: a sentence that hands over the lesson's points is passed over.
            pool = [(p, s) for p, s in pool if not leaks(s)] or []
        if not pool:
            if decided:
                return Answer(q, ("No — " if decided[0] == "no" else "Yes — ") + decided[1], None, decided[0])
            return Answer(q, "", None, sure=False)
        pool = self._shortlist(pool, query, shape)
        texts = [s for _, s in pool]
        vecs = self._embed([query[:600]] + texts, set(texts))
        dense = (vecs[1:] @ vecs[0]) if vecs is not None else np.zeros(len(texts))
        q_names = names_in(q) | {w.capitalize() for w in focus if w.capitalize() in names_in(" ".join(texts))}
        # A name the student wrote with a capital ("NEP", "Kirov") says what the question is about;
        # Stalin and Lenin are in nearly every sentence of the course and say little.
        token_sets = [set(tokenize(s)) for s in texts]
        named = set(tokenize(" ".join(re.findall(r"(?<!^)\b[A-Z][\w']+", q))))
        # …and a word the course writes with a capital ("united opposition" → United Opposition).
        capitals = set(tokenize(" ".join(re.findall(r"(?<=[a-z,;] )[A-Z][\w']+", " ".join(texts)))))
        named |= focus & capitals
        weight = {t: 0.3 if t in _EVERYWHERE else 2.0 if t in named else 1.0 for t in focus}
        total = sum(weight.values()) or 1.0
        # Ties go to the term fewest candidates hold (then by name: a set's order changes run to run).
        rarest = max(focus, key=lambda t: (weight[t], -sum(t in toks for toks in token_sets), t)) if focus else None
        defined = defined_term(q)
        said = said_term(q)
        role = _ROLE_Q.match(q.strip())  # "who led the Comintern?": read once, not per candidate
        # "what did the testament say about stalin?": a sentence that does not name him is about someone
        # else ("The Testament criticised him too…", of Trotsky, offline trial 8).
        about = [n.lower() for n in PERSON_NAME.findall(" ".join(re.findall(r"\babout\s+(\w+)", q, re.I)))]
        scored = []
        for (p, s), d, toks in zip(pool, dense, token_sets):
            overlap = sum(weight[t] for t in focus & toks) / total
            score = float(d) + 0.35 * overlap
            head = " ".join(s.split()[:7])
            if rarest and rarest in tokenize(head):
                score += 0.1  # the sentence is about the thing asked of: its subject
                if shape in ("who", "what", "yesno") and not said and re.search(r"\b(?:was|were|is|are)\b", head):
                    score += 0.1  # "The United Opposition was the alliance …": a definition
            if defined:
                score += _defines(defined, s)
            elif said:
                score += _says(said, s, f"{p.title} {p.section or ''}")
            elif role:
                score += _heads(role.group("x"), s)
            elif shape in ("who", "what") and _SUBORDINATE.match(s):
                score -= 0.1  # "Since Zinoviev was chairman of the Comintern, readers could see …"
            if shape == "when":
                score += 0.15 if _YEAR.search(s) else -0.25
            if shape == "why" and _BECAUSE.search(s):
                score += 0.15  # a "why" answer gives a reason
            if shape == "where":
                # "where did he go??" is answered by a place (offline trial 12 got a sentence without one)
                score += 0.15 if _PLACE.search(s) else -0.1
            if shape == "who":
                score += 0.1 if names_in(s) - {"Lenin", "Stalin"} else -0.1
            if q_names:
                score += 0.08 * len({n for n in q_names if n in s})
            if about and not any(n in s.lower() for n in about):
                score -= 0.5  # outweighs a report of what was said (_says)
            if avoid and s in avoid:
                # Said before: another sentence is better (the second blind trial heard the same NEP
                # sentence three times); a question re-asked after "you didn't answer" has no avoid set.
                score -= 0.3
            if decided:
                dtoks = set(tokenize(decided[1]))
                score += 0.2 * len(dtoks & toks) / max(1, len(dtoks))
            score -= 0.002 * max(0, len(s.split()) - 35)
            scored.append((score, p, s))
        scored.sort(key=lambda x: -x[0])
        best_score, passage, sentence = scored[0]
        if decided:
            lead = "No — " if decided[0] == "no" else "Yes — "
            text = lead + decided[1]
            # The passage sentence adds the source, unless it only says the same thing again.
            return Answer(q, text, passage, decided[0], True, sentence)
        # "how tall was kamenev?", "what did trotsky eat for breakfast?": the sentence names the person
        # and not one word of what was asked about him — the nearest the sources come, not the answer
        # (offline trial 10: the same Kamenev sentence given as the answer three times).
        content = {t for t in focus if t not in named and t not in _EVERYWHERE and t not in _ASKING
                   and not t.isdigit() and t.capitalize() not in q_names}
        # A "why" asks for a reason, which seldom repeats the question's own words.
        covered = not asked or not content or shape == "why" or bool(_stems(content) & _stems(tokenize(sentence)))
        return Answer(q, sentence, passage, "", best_score >= STATED_MIN and covered, sentence)


_COURSE_WORDS = [
    (re.compile(r"\b(?:leave|left|kicked out of|thrown out of|expelled from|exiled from|sent out of|get out of)\s+"
                r"(?:the\s+)?(?:country|ussr|russia|soviet union)\b", re.I), "deported Turkey"),
    (re.compile(r"\b(?:ran|run|in charge of|head of|led|lead|boss of)\s+(?:the\s+)?(?:red\s+)?army\b", re.I),
     "Commissar of War"),
    (re.compile(r"\b(?:kill(?:ed)?|murder(?:ed)?|assassinat\w*)\b.*\btrotsky|\btrotsky\b.*\b(?:kill(?:ed)?|murder(?:ed)?|"
                r"die|died|death)\b", re.I), "murdered Mexico 1940"),
]


def _stems(words) -> set[str]:
    """Words cut to a rough stem, so "voted" meets "vote" and "deported" meets "deportation"."""
    return {w[:5] if len(w) > 5 else w.rstrip("sd") or w for w in words}


def course_words(question: str) -> str:
    """The course's words for the question's everyday ones ("leave the country" → "deported Turkey")."""
    return " ".join(words for pattern, words in _COURSE_WORDS if pattern.search(question))


_DEFINITION_Q = re.compile(r"^\W*(?:so\s+|and\s+|but\s+|wait\s+|ok\s+)*(?:who|what)(?:'s|\s+(?:was|were|is|are))\s+"
                           r"(?:the\s+|a\s+|an\s+)?(?P<x>[\w'’ -]{3,40}?)"
                           # "what was the secretariat, was it just typists?": the guess after the comma
                           # is the student's, the term is before it.
                           r"(?:\W*$|\s*,\s*(?:was|were|is|are|did|does|and|or|like)\b.*$)", re.I)
_SUBORDINATE = re.compile(r"^(?:since|when|although|though|as|if|while|after|before|because|once|until)\b", re.I)


_ROLE_Q = re.compile(r"^\W*(?:so\s+|and\s+|but\s+)*who\s+(?:led|headed|ran|chaired|was in charge of|was (?:the )?"
                     r"(?:head|leader|chairman|boss) of)\s+(?:the\s+)?(?P<x>[\w'’ -]{3,40}?)\W*$", re.I)


# "what did the Testament actually say?", "what did Trotsky argue in Lessons of October?"
_SAID_Q = re.compile(r"^\W*(?:so\s+|and\s+|but\s+|ok\s+)*what\s+(?:did|does|do)\s+(?:the\s+)?(?P<x>[\w'’ -]{3,40}?)\s+"
                     r"(?:\w+ly\s+)?(?:say|said|argue|propose|recommend|demand|call for|warn|claim|ask for)\b", re.I)
_SAYING = re.compile(r"\b(?:said|says|saying|wrote|writes|warned of|saw|called|calling|proposed|proposing|recommended|warned|argued|arguing|asked|"
                     r"asking|described|urged|demanded|criticised|criticized|suggested|claimed|praised)\b", re.I)


def said_term(question: str) -> str:
    """"what did the Testament actually say?" → "testament"; "" for any other question."""
    m = _SAID_Q.match(question.strip())
    # "lenin's testament" is the Testament: the course writes it both ways
    return re.sub(r"^\w+['’]s\s+", "", " ".join(m.group("x").lower().split())) if m else ""


def _says(term: str, sentence: str, where: str = "") -> float:
    """A sentence reporting what ``term`` said ("the Testament, … calling Stalin "too rude" and
    proposing his removal"), not one that only mentions it (the fourth blind offline trial asked
    "what did it actually say?" and heard when it was published); in a passage about it
    (``where``: its title and section), a sentence that says what was said ("The postscript … said
    "Stalin is too rude"")."""
    low = " ".join(sentence.lower().split())
    term_re = r"\b" + r"\s+".join(re.escape(w) for w in term.split())
    at = re.search(term_re, low)
    if at:
        return 0.6 if _SAYING.search(low[at.end():at.end() + 120]) else 0.0
    if re.search(term_re, where.lower()) and _SAYING.search(" ".join(low.split()[:14])):
        return 0.5
    return 0.0


def defined_term(question: str) -> str:
    """"who was Kirov?" → "kirov", "what was the Lenin Enrolment" → "lenin enrolment"; "" for any
    other question."""
    m = _DEFINITION_Q.match(question.strip())
    return " ".join(m.group("x").lower().split()) if m else ""


def _heads(body: str, sentence: str) -> float:
    """"who led the Comintern?" (``body``: "Comintern"): a sentence naming the chairman or head of it."""
    x = r"\s+".join(re.escape(w) for w in body.lower().split())
    low = " ".join(sentence.lower().split())
    if _SUBORDINATE.match(low):
        return -0.2
    return 0.3 if re.search(r"\b(?:chairman|chair|head|leader|boss)\s+of\s+(?:the\s+)?[\w'’ ()-]{0,40}?" + x + r"\b", low) \
        else 0.0


def _defines(term: str, sentence: str) -> float:
    """How far ``sentence`` says what ``term`` is: "The Lenin Enrolment (…) was a mass recruitment
    campaign", "the Workers' and Peasants' Inspectorate (Rabkrin), which was set up to …", "The
    Left, whose leading economist was Evgeny Preobrazhensky". A sentence that opens with "Since …"
    mentions the term on the way to something else (the second blind offline trial asked "who led
    the Comintern?" and heard "Since Zinoviev was chairman of the Comintern, readers could see …")."""
    low = " ".join(sentence.lower().split())
    x = r"\s+".join(re.escape(w) for w in term.split())
    if _SUBORDINATE.match(low):
        return -0.1
    head = r"^(?:\S+\s+){0,3}?" + x + r"(?:\s*\([^)]{0,60}\))?(?:,[^,]{0,80},)?\s+(?:was|were|is|are|became|had been)\b"
    if re.search(head + r"\s+(?:a|an|the|one|[\w'-]+'s)\b", low):
        return 0.3   # "… was a mass recruitment campaign", "… became the head of …"
    if re.search(head, low):
        return 0.12  # "… is best seen as …": about it, not what it was
    if re.search(r"^(?:\S+\s+){0,3}?" + x + r"\s+(?:ran|handled|managed|oversaw|organised|organized|dealt with|"
                 r"was responsible for|controlled)\s", low):
        return 0.25  # "The Secretariat ran the party's day-to-day business": what it did is what it was
    if re.search(r"\(" + x + r"\),?\s+(?:which|who)\b", low):
        return 0.4   # "… Inspectorate (Rabkrin), which was set up to …": a definition mid-sentence
    if re.search(r"\b" + x + r"(?:\s*\((?:the\s+)?(?:chairman|head|leader|editor|secretary|commissar)\b|,\s+who\s+"
                 r"(?:was|chaired|led|headed|ran)\b)", low):
        return 0.25  # "Alexei Rykov (chairman of …)", "Alexei Rykov, who chaired the government"
    if re.search(r"\b" + x + r",\s+(?:the|a|an)\s+\w+", low):
        return 0.2
    if re.search(r"\bwhose\s+[\w ]{0,30}?\s+(?:was|were|is)\s+(?:\w+\s+)?" + x + r"\b", low):
        return 0.2
    return 0.0


_IRREGULAR = {"say": "said", "win": "won", "lose": "lost", "get": "got", "make": "made", "take": "took", "give": "gave",
              "become": "became", "lead": "led", "write": "wrote", "have": "had", "go": "went", "know": "knew",
              "read": "read", "put": "put", "run": "ran", "think": "thought", "see": "saw", "hold": "held",
              "leave": "left", "begin": "began", "come": "came", "choose": "chose", "speak": "spoke", "fall": "fell"}
_BE = frozenset({"was", "were", "is", "are", "wasn't", "weren't", "isn't", "aren't", "wasnt", "isnt"})


def _past(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith("e"):
        return verb + "d"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ied"
    return verb + "ed"


def declaratives(question: str) -> list[str]:
    """Statement forms of a yes/no question, for the fact checker: "did Lenin's Testament name a
    successor" → "Lenin's Testament named a successor"; "was the NEP Stalin's idea" → "the NEP was
    Stalin's idea". Several placements are tried: a wrong one reads as nothing to the checker. A
    negative question ("wasn't that Stalin's idea?") asks the positive one."""
    words = question.split()
    if len(words) < 3:
        return []
    aux, rest = words[0].lower().replace("'", ""), words[1:]
    negated = aux.endswith("nt")
    base = aux[:-2] if negated else aux
    out = []
    for i in range(1, min(5, len(rest))):
        head, tail = rest[:i], rest[i:]
        if base in ("did", "does", "do"):
            verb = tail[0].lower()
            if not verb.isalpha() or tail[0][:1].isupper():
                continue
            out.append(" ".join(head + [_past(verb)] + tail[1:]))
        elif base in ("was", "were", "is", "are", "has", "had", "could", "would", "can"):
            out.append(" ".join(head + [base] + tail))
    return out


def _sentence(text: str) -> str:
    text = " ".join(text.split()).strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _first_clause(why_wrong: str, focus: set[str] = frozenset()) -> str:
    """The clause of a correction that answers the question: the one sharing most of its words
    ("was trotsky kicked out of the ussr in 1925?" → "…only in February 1929 was he deported abroad",
    not "In 1927 Trotsky was expelled from the party"), the first on a tie."""
    parts = [p.strip().rstrip(",. ") for p in re.split(r";|:(?=\s)", why_wrong) if p.strip()]
    best = max(parts, key=lambda p: (len(focus & set(tokenize(p))), -parts.index(p))) if parts else why_wrong
    return _sentence(best[:1].upper() + best[1:])

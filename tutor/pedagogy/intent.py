"""What kind of message the student sent. Rules, not a model: fast, testable, explainable.

>>> classify("just tell me why stalin won").kind
'answer_request'
>>> classify("who won the world cup").kind
'off_topic'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tutor.kinds import IntentKind

GREETING = re.compile(r"^\s*(hi+|hey+|hello+|hiya|yo|good (morning|afternoon|evening)|howdy|sup|hallo)\b", re.I)
INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|rules|prompt|guidelines|programming|restrictions|everything)\b"
    r"|\b(system|initial|hidden|original|secret)\s+(prompt|instructions?|message|rules)\b"
    r"|\byour (instructions|prompt|rules|guidelines|programming|configuration|templates?)\b"
    # "act as" said to the tutor, not of Stalin ("a cult of lenin that stalin could act as high priest of",
    # relay trial 21)
    r"|\byou are now\b|\bfrom now on,? you\b|\bpretend (to be|you are|you're)\b"
    r"|(?:^\W*|[,.;:!]\s*|\b(?:you|u|please|pls|now|should|must|can you|could you)\s+)(?:act|roleplay) as\b"
    r"|\bDAN\b|\bjailbreak|\bdeveloper mode\b|\bnew (role|persona|instructions)\b"
    r"|\brepeat (everything|the text|the words) (above|before)\b|\bprint (your|the) (prompt|instructions)\b"
    r"|<\|?(system|im_start)\|?>|^\s*#*\s*system\s*:|#+\s*(system|user|assistant)\s*:"
    r"|\brules (were you|you were|you've been|you have been) given\b|\b(changed|change) your settings\b"
    r"|\btemplates? (you use|for your)\b|\bkey_points\b|\blesson cards?\b|\bdebug mode\b"
    r"|\bplay a game where you\b|\b(you'?re|you are) allowed to (give|tell|write)\b",
    re.I | re.S,
)
WRITING = re.compile(
    r"\b(write|draft|compose|do|make|give me|generate|type)\b.{0,40}\b(essay|intro(duction)?|paragraph|para|conclusion|"
    r"answer|response|plan|paragraphs|model answer|first sentence|thesis|opening|homework|assignment|coursework)\b"
    r"|\bmodel answer\b|\bwrite (it|this|one) for me\b|\bwrite me\b|\bcan (you|u) write\b|\bwrite (a|an|the|my)\b"
    r"|\bwrite \d+ words\b|\b\d+ words (on|about)\b|\b(rewrite|reword|rephrase|paraphrase|improve|fix|polish) (this|it|my)\b",
    re.I | re.S,
)
ANSWER = re.compile(
    r"\bjust (tell|give|say|explain|list)\b|\b(tell|give|show) me (the )?(answer|reasons?|factors?|main (reasons?|points?)|key points?|points)\b"
    r"|\bwhat('?s| is| are) the (answer|reasons?|main reasons?|correct answer|right answer|factors)\b"
    r"|\b(the|a) (answer|reasons?)\b.{0,30}\b(pls|please|now|quick|quickly)\b|\bbullet points?\b|\bno questions\b"
    r"|\bstop asking\b|\bspoon ?feed\b|\bcheat sheet\b|\bsummar(y|ise|ize) (it|why|the reasons)\b"
    r"|\bjust (the )?answer\b|\bi (just )?(need|want) (the|an) answer\b|\blist (the )?(reasons|factors)\b"
    r"|\bone[- ]word answer\b|\b(just )?(say|answer) yes or no\b|\b(no|don'?t have|dont have|haven'?t got) (the )?time for questions\b"
    r"|\b(don'?t|dont|do not) ask me\b|\bsummar(y|ise|ize)( of)? (the whole|everything|all)\b|\bexplain (the whole thing|everything)\b"
    r"|\bwhat (factors|reasons|points) (do|should|must) i (need|have|mention|include|write|put)\b"
    r"|\bwhat('?s| is| was) the (single )?(most important|main|biggest|key) (factor|reason|cause)\b"
    r"|\b(give|tell) me the (other|rest of the|remaining|next|missing) (reasons?|points?|factors?|answers?)\b"
    r"|^\W*(so |ok |and )?what else\b(?!.{0,20}\b(did|was|were|happened)\b)(\W*(quick|quickly|then|now)\W*$|\W*$| do i (need|have to (say|write|know))\b| should i (say|write|put|include)\b)",
    re.I,
)
DONT_KNOW = re.compile(r"^\s*(i\s*)?(dunno|idk|no idea|not sure|i don'?t know|dont know|no clue|\?+|stuck|i'?m stuck|help|hmm+|um+)\W*$", re.I)
# Strong markers make a message a claim even when it is phrased as a question
# ("why did he lose? because he was arrogant"); weak ones only when it is not a question.
STRONG_CLAIM = re.compile(
    r"\b(because|cos|cuz|coz|due to|thats why|that's why|therefore|i think|i reckon|i believe|in my opinion|"
    r"lost because|was responsible|was to blame)\b",
    re.I,
)
CLAIM_MARKERS = re.compile(
    r"\b(because|cos|cuz|coz|since|due to|so|thats why|that's why|therefore|i think|i reckon|i believe|in my opinion|"
    r"mainly|the main reason|was the reason|won by|lost because|was responsible|was to blame|caused)\b",
    re.I,
)
_FILLER = r"(?:(?:ok|okay|so|and|but|hmm+|um+|right|well|like|wait|also|then|yeah|yes|no|sorry|pls|please|yo|hey|hi)\W+)*"
QUESTION_START = re.compile(
    rf"^\s*{_FILLER}(who|what|when|where|why|how|which|was|were|did|do|does|is|are|could|can|should|would|whats|wat|y)\b",
    re.I)
# A sentence inside the message that is a question ("i have a test tomorrow. why did trotsky lose").
_QUESTION_SENTENCE = re.compile(
    r"(?:^|[.!?;]\s+|\n)\s*(who|what|when|where|why|how|which|whats)\b[^.!]*$", re.I)
# A student proposing an answer as a question.
# "... the Right?" names the Bukharin group; only a tag ("..., right?", "... or right?") asks for a check.
TENTATIVE = re.compile(r"^\s*(?:(?:ok|okay|right|hmm+)\W+)?so\W+(?:is|was|did|does|it|he)\b|\b(?:is that right|isn'?t it|wasn'?t it)\?\s*$"
                       r"|(?<!\bthe )(?<!\bthe\s\s)\bright\?\s*$", re.I)
# Talk about one's studies, not about the history: answered like a greeting.
STUDY_CONTEXT = re.compile(
    r"^\s*(?:(?:hi|hey|hello|yo|good (?:morning|afternoon|evening))\W+)?(?:i'?m|im|i am|we'?re|we are) "
    r"(?:revising|studying|doing|working on|learning|stuck on|new)\b"
    r"|^\s*i (?:need|want) (?:some )?help\b|^\s*(?:can|could) (?:you|u) help(?: me)?\W*$",
    re.I)
# Match-ups, fantasies and present-day politics: off topic even when they name someone from the period.
OFF_TOPIC_FRAME = re.compile(
    # Not "a fight between the leaders" or "the battle between Stalin and Trotsky": the course's own
    # words for the struggle (the third offline trial's NEP question was sent off the course).
    r"\bwho would win (in )?(a |the )?(fight|battle|war|boxing|race)\b|\b(boxing match|fist ?fight|cage fight) between\b"
    r"|\brap battle\b|\bwho would win\b.{0,40}\b(napoleon|hitler|caesar|alexander|genghis khan|churchill)\b",
    re.I | re.S)

# Words that place a message in the period: people, institutions, events, ideas, exam terms.
TOPIC = re.compile(
    r"\b(stalin|stallin|trotsk|trotksy|lenin|zinoviev|zinovev|kamenev|bukharin|rykov|tomsky|krupskaya|frunze|"
    r"preobrazhensky|pyatakov|sukhanov|kirov|molotov|voroshilov|kalinin|eastman|"
    r"soviet|ussr|russia|bolshevik|communis|politburo|orgburo|secretar|gensek|nomenklatura|rabkrin|commissar|"
    r"party|congress|conference|faction|opposition|triumvirate|troika|testament|postscript|enrolment|enrollment|levy|"
    r"nep\b|new economic|industriali|collectivi|grain|kulak|peasant|permanent revolution|socialism|leninism|"
    r"the left\b|the right\b|left[- ]wing|right[- ]wing|leftist|rightist|deviation|platform|declaration|new course|lessons of october|red army|war commissar|funeral|mausoleum|"
    r"alma.?ata|exile|deport|georgia|power struggle|succession|successor|historian|carr|deutscher|conquest|tucker|"
    r"fitzpatrick|service|kotkin|ward|cohen|grey blur|mediocrity|genghis|essay|source|provenance|exam|"
    r"literary discussion|192\d|1917|revolution|civil war|kronstadt|comintern|pravda|moscow|leningrad|petrograd|bureaucra|apparatus)",
    re.I,
)


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    on_topic: bool


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


def looks_like_essay(text: str) -> bool:
    words = word_count(text)
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if word_count(p) >= 25]
    return words >= 250 or (words >= 150 and len(paragraphs) >= 2)


def classify(message: str, *, in_conversation: bool = False, on_topic: bool | None = None) -> Intent:
    """The message alone; ``on_topic`` is the course's own judgement (pedagogy.acts.Topicality)
    when the caller has it, else the period's vocabulary below."""
    text = message.strip()
    on_topic = bool(TOPIC.search(text)) if on_topic is None else on_topic
    words = word_count(text)
    if INJECTION.search(text):
        return Intent("injection", on_topic)
    if looks_like_essay(text):
        return Intent("essay", on_topic)
    if WRITING.search(text) and (on_topic or in_conversation or re.search(r"\b(essay|intro|paragraph|conclusion)\b", text, re.I)):
        return Intent("writing_request", True)
    if ANSWER.search(text):
        return Intent("answer_request", True)
    if OFF_TOPIC_FRAME.search(text):
        return Intent("off_topic", False)
    question_like = text.rstrip().endswith("?") or bool(QUESTION_START.search(text) or _QUESTION_SENTENCE.search(text))
    if GREETING.search(text) and (words <= 4 or (words <= 8 and not on_topic)
                                  or (words <= 14 and not question_like and not CLAIM_MARKERS.search(text))):
        return Intent("greeting", on_topic)
    if STUDY_CONTEXT.search(text) and words <= 14 and not CLAIM_MARKERS.search(text) and not (on_topic and question_like):
        return Intent("greeting", on_topic)
    if DONT_KNOW.search(text):
        return Intent("dont_know", True)
    if not on_topic:
        # Short follow-ups ("why?", "what do you mean", "ok so what next") belong to the conversation.
        if in_conversation and words <= 6 and not re.search(r"\b(football|game|maths?|math|film|movie|music|joke|weather)\b", text, re.I):
            tentative = text.endswith("?") and not QUESTION_START.search(text)
            return Intent("question" if question_like and not tentative else "claim", True)
        return Intent("off_topic", False)
    if STRONG_CLAIM.search(text):
        return Intent("claim", True)
    if in_conversation and (TENTATIVE.search(text) or (
            text.endswith("?") and not QUESTION_START.search(text) and not _QUESTION_SENTENCE.search(text))):
        # "he could give people jobs?", "so is it just organisation then?": a tentative answer to
        # the tutor's question, to be tested like a claim, not a new question.
        return Intent("claim", True)
    if question_like:
        return Intent("question", True)
    return Intent("claim", True)

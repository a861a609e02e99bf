"""Does a reply give away what the student has not yet reached? One check for every reference.

>>> ref = Reference.from_solution("5,000 + 1,000 = 6,000 steps.\\n10,000 - 2,000 = 8,000.\\n 2000")
>>> stated_points("So he took 2,000 steps on his jog.", ref, said="I think it was 4000")
['answer']
>>> stated_points("So he took 2,000 steps on his jog.", ref, said="so 2000 steps?")
[]

A reference answer is a list of points, each with the terms that show it (a lesson card's key
points and their evidence terms; a worked solution's final answer and step results, as
numbers). A point counts as *stated* when the reply uses enough of its terms that neither the
student nor the text the reply may repeat (the hint it was asked to give, the problem's own
givens) already used, or when a sentence closely restates the point's statement. What the
student has already made (``covered``) can never be given away.

Without a reference (a dialogue whose answer is not written down) the same question is asked
of the reply's own assertions: does it state, in a sentence that is not a question, a result
that the student has not reached and the conversation has not given (``asserted_results``)?
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Literal, Protocol, Sequence

from tutor.lessons import PERSON_NAME
from tutor.pedagogy.learner import terms_in, terms_said

if TYPE_CHECKING:
    from tutor.lessons import LessonCard

SENTENCES = re.compile(r"(?<=[.!?])\s+")
_LINES_AND_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
PARAPHRASE_MIN_WORDS = 7
# A number as written: 2,000  $1.50  30%  -3  (not the 3 of "x3" or a date's 12/05 parts).
_NUMBER = re.compile(r"(?<![\w.])-?\$?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|(?<![\w.])-?\$?\d+(?:\.\d+)?%?")
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                      "ninety": 90, "hundred": 100, "thousand": 1000, "half": 0.5, "twice": 2})
_WORD_NUMBER = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)


def numbers_in(text: str, words: bool = False) -> list[float]:
    """The numeric values written in the text ("2,000" and "2000.0" are both 2000.0); with
    ``words``, also number words ("seven", "half")."""
    values = []
    for m in _NUMBER.finditer(text):
        raw = m.group(0).replace("$", "").replace(",", "").rstrip("%")
        try:
            values.append(float(raw))
        except ValueError:
            continue
    if words:
        values += [float(_NUMBER_WORDS[m.group(1).lower()]) for m in _WORD_NUMBER.finditer(text)]
    return values


def _names(terms: list[str]) -> tuple[str, ...]:
    """The people's names among a point's evidence terms."""
    return tuple(t for t in terms if PERSON_NAME.fullmatch(t.strip()))


def _only_names(terms: list[str]) -> tuple[str, ...]:
    """A point whose evidence terms are all people's names is stated by what the reply says of
    them, not by naming them ("allied with Zinoviev, Kamenev and Bukharin" names the alliances'
    terms and states them; "Zinoviev and Kamenev, his allies against Trotsky" states nothing of
    "the Testament criticised Trotsky, Zinoviev, Bukharin and Pyatakov")."""
    return tuple(terms) if terms and all(PERSON_NAME.fullmatch(t.strip()) for t in terms) else ()


NAMES_STATE = 3  # people a point must name for their names alone to state it


@dataclass(frozen=True)
class Point:
    """One thing the reference answer says. ``kind`` 'terms': words matched as the cards match
    them (``learner.terms_in``); 'number': numeric values, however they are written."""

    id: str
    terms: tuple[str, ...]
    statement: str = ""
    min_terms: int = 2
    kind: Literal["terms", "number"] = "terms"
    # People's names among the terms: a reply on the topic names them anyway, so they state the
    # point only with another of its terms, or where the point names NAMES_STATE people (a point made
    # only of names, only by a paraphrase of its statement).
    weak: tuple[str, ...] = ()

    def found(self, text: str) -> list[str]:
        if self.kind == "number":
            values = set(numbers_in(text))
            return [t for t in self.terms if float(t) in values]
        return terms_in(text, list(self.terms))

    def said(self, text: str) -> set[str]:
        """The terms (lower-cased) already in ``text`` (the conversation so far): line by line, remembered."""
        if self.kind == "number":
            return {t.lower() for t in self.found(text)}
        return terms_said(text, self.terms)


@dataclass(frozen=True)
class Reference:
    """A reference answer: its points, and which of them is the final answer (if any)."""

    points: tuple[Point, ...]
    final: str | None = None

    @classmethod
    def from_card(cls, card: "LessonCard") -> "Reference":
        """A lesson card's key points: two of a point's evidence terms, or a close paraphrase of
        its statement, state it."""
        return cls(tuple(Point(kp.id, tuple(kp.evidence_terms), kp.statement, weak=_names(kp.evidence_terms))
                         for kp in card.key_points))

    @classmethod
    def from_solution(cls, solution: str, steps: bool = False) -> "Reference | None":
        """A worked solution whose last line is the final answer (MathDial's format); with
        ``steps``, each line's results (numbers after '=') are points too. None when there is no
        solution or its last line holds no number."""
        lines = [ln.strip() for ln in (solution or "").strip().splitlines() if ln.strip()]
        if not lines or lines[-1].lower() == "not available":
            return None
        final = numbers_in(lines[-1])
        if not final:
            return None
        points = [Point("answer", (_fmt(final[-1]),), min_terms=1, kind="number")]
        if steps:
            for n, line in enumerate(lines[:-1], start=1):
                results = tuple(dict.fromkeys(_fmt(v) for part in line.split("=")[1:] for v in numbers_in(part)[:1]))
                results = tuple(r for r in results if r != points[0].terms[0])
                if results:
                    points.append(Point(f"step{n}", results, min_terms=1, kind="number"))
        return cls(tuple(points), final="answer")


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def sentences(text: str, min_words: int = 0) -> list[str]:
    return [s for s in SENTENCES.split(text) if s.strip() and len(s.split()) >= min_words]


@lru_cache(maxsize=2048)
def _content_tokens(text: str) -> frozenset[str]:
    from tutor.retrieval import tokenize

    return frozenset(tokenize(text))


def restates(sentence: str, statement: str, share: float = 0.6) -> bool:
    """True when a sentence carries most of a statement's content words (stemmed)."""
    # Cached: a card's statements recur on every reply, a reply's sentences for every key point.
    wanted = _content_tokens(statement)
    return len(wanted) >= 4 and len(wanted & _content_tokens(sentence)) / len(wanted) >= share


def _names_with_statement(text: str, point: Point, names: list[str]) -> bool:
    """A sentence naming the point's people that also carries a word of its statement other than
    a name."""
    people = _content_tokens(" ".join(PERSON_NAME.findall(point.statement)) + " " + " ".join(point.weak))
    wanted = _content_tokens(point.statement) - people
    return any(len(terms_in(s, names)) >= point.min_terms and (wanted & _content_tokens(s) or _SIDES.search(s))
               for s in SENTENCE_ENDS.split(text))


# A quotation cut with "…”" ends a sentence too: the question after it is another sentence.
SENTENCE_ENDS = re.compile(r"(?<=[.!?…])[”\"’]?(?:\s*\[\d+\])?\s+")
# Words that put people on a side: with them, names state who stood with whom.
_SIDES = re.compile(r"\b(?:against|sided?|join(?:ed|ing)?|team(?:ed)? up|triumvirate|all(?:y|ies|ied|iance)|partners?|"
                    r"backed|backing|turned on)\b", re.I)


def stated_points(text: str, reference: Reference, covered: Iterable[str] = (), said: str = "",
                  *, questions_reveal: bool = True) -> list[str]:
    """Ids of the reference's points that the text states and the student has not reached.

    ``said``: what the student wrote and what the reply may repeat (the hint it was asked to
    give, the problem's givens); a term found there is not new. ``questions_reveal=False``
    ignores terms that occur only inside questions ("is it 2,000?" hands over a guess, not the
    answer) — for graders that treat a checked guess as no reveal.
    """
    covered = set(covered)
    body = text if questions_reveal else " ".join(s for s in sentences(text) if not s.rstrip().endswith("?"))
    long_sentences = sentences(text, PARAPHRASE_MIN_WORDS)
    out = []
    for point in reference.points:
        if point.id in covered:
            continue
        allowed = point.said(said)
        new_terms = [t for t in point.found(body) if t.lower() not in allowed]
        paraphrase = bool(point.statement) and any(restates(s, point.statement) for s in long_sentences)
        weak = {t.lower() for t in point.weak}
        strong = [t for t in new_terms if t.lower() not in weak]
        names_only = bool(weak) and weak >= {t.lower() for t in point.terms}
        # Names alone state a point only where it is about NAMES_STATE people or more: "allied with
        # Zinoviev and Kamenev" states the alliances (Zinoviev, Kamenev, Bukharin); "Zinoviev and
        # Kamenev" in a reply on the Declaration of the 46 does not state "Lessons of October attacked
        # Zinoviev and Kamenev", whose own term is the pamphlet (relay trial 23).
        # And only in a sentence sharing another word of the point's statement ("allied", "against"):
        # "Zinoviev and Kamenev vouched for Stalin" over the Testament is that episode, not the
        # alliances in turn (relay trial 24's model was refused for it, against its brief).
        by_terms = len(new_terms) >= point.min_terms and not names_only and \
            (strong or len(weak) >= NAMES_STATE and _names_with_statement(body, point, new_terms))
        if by_terms or paraphrase:
            out.append(point.id)
    return out


# -- no reference: the reply's own assertions -------------------------------------------------
# "is actually 12", "= 43", "you get 156", "is called a pentagon", "the answer is 7"
_RESULT = re.compile(
    r"(?:\b(?:(?:is|are)\s+(?:actually\s+|really\s+)?)?(?P<named>called)\s+(?:an?\s+)?|=|\bequals?\b|\bis\s+(?:actually|really|indeed|just|only)?\s*|\bare\s+|\bgives?\s+(?:us|you)?\s*|\bget\s+|\bgot\s+"
    r"|\bmakes?\s+|\bwould\s+be\s+|\bshould\s+be\s+|\btotals?\s+(?:to\s+)?|\bleaves?\s+(?:us|you)?\s*)"
    r"\s*(?:(?:about|approximately|around|roughly|exactly|just|only)\s+)?\$?(?P<value>-?[\w.,/%$]+)", re.I)
_WEAK_NUMBER_WORDS = frozenset(("one", "half", "twice"))
_FILLER = frozenset("a an the not that this it what how a correct right wrong close there here you we so also "
                    "to of in on by your our my its one".split())


@dataclass
class Assertion:
    sentence: str
    value: str


def asserted_results(text: str, said: str, given: str = "") -> list[Assertion]:
    """Results the reply states outright (not in a question) that neither the student's words
    (``said``) nor the conversation's givens (``given``) contain: a number, or the word after
    'is called' / 'is actually'."""
    known_numbers = set(numbers_in(said, words=True)) | set(numbers_in(given, words=True))
    known_words = set(re.findall(r"[a-z]+", (said + " " + given).lower()))
    found: list[Assertion] = []
    for sentence in _LINES_AND_SENTENCES.split(text):
        if not sentence.strip() or sentence.rstrip().rstrip("\"'”)").endswith("?"):
            continue
        for m in _RESULT.finditer(sentence):
            token = m.group("value").strip(".,;:!\"'”)")
            # "one", "half", "twice" are more often words than results ("there is just one piece").
            values = numbers_in(token, words=token.lower() not in _WEAK_NUMBER_WORDS)
            if values:
                if values[0] not in known_numbers:
                    found.append(Assertion(sentence.strip(), token))
            elif (word := token.lower()) and word.isalpha() and word not in _FILLER and len(word) > 3 \
                    and word not in known_words and m.group("named"):
                found.append(Assertion(sentence.strip(), token))
    return found


@dataclass
class RevealVerdict:
    revealed: bool
    points: list[str] = field(default_factory=list)
    assertions: list[Assertion] = field(default_factory=list)
    # The trained guard's P(reveal) when it decided (``guarded_reveals``); None for the rules alone.
    probability: float | None = None

    @property
    def detail(self) -> str:
        if not self.revealed:
            return ""
        if self.points:
            return f"states what the student has not reached: {', '.join(self.points)}"
        if self.assertions:
            return f"states a result the student has not reached: {self.assertions[0].value}"
        if self.probability is not None:
            return f"reads as giving the answer away (P = {self.probability:.2f})"
        return ""


def reveals(text: str, reference: Reference | None, said: str, given: str = "",
            covered: Iterable[str] = (), *, questions_reveal: bool = True) -> RevealVerdict:
    """The reveal check: with a reference, its points the reply states (the final answer being
    the one that matters most); without, the results the reply asserts that nobody has reached."""
    if reference is not None:
        points = stated_points(text, reference, covered, said + "\n" + given, questions_reveal=questions_reveal)
        return RevealVerdict(bool(points), points)
    assertions = asserted_results(text, said, given)
    return RevealVerdict(bool(assertions), assertions=assertions)


# -- the learned guard: the rules' findings and the reply's sentence embedding ----------------
# Why a classifier: the rules above were adjusted by reading MRBench's dev half and score well
# there; on other human-labelled replies they score far lower. A logistic regression over the
# reply's MiniLM embedding plus what the rules found is trained on part of MRBench V1 only
# (`tutor eval mrbench --train`) and measured on dialogues and tutors it never saw.
CLASSIFIER_PATH = Path(__file__).with_name("reveal_classifier.json")
FEATURES = ("rules", "rules_statements", "reference", "has_question", "ends_with_question",
            "question_share", "new_numbers", "asserted", "length")
_CLAUSES = re.compile(r"(?<=[.!?])\s+|\n+")


def _is_question(sentence: str) -> bool:
    return sentence.rstrip().rstrip("\"'”)").endswith("?")


def reveal_features(text: str, reference: Reference | None, said: str, given: str = "",
                    covered: Iterable[str] = ()) -> list[float]:
    """The rules' findings on one reply as numbers in [0, 1], in ``FEATURES`` order: the reveal
    verdict with and without questions counted, whether there is a reference, how much of the
    reply is questions, how many new numbers and asserted results it states, its length."""
    covered = tuple(covered)
    parts = [s for s in _CLAUSES.split(text) if s.strip()]
    questions = sum(_is_question(s) for s in parts)
    known = set(numbers_in(said, words=True)) | set(numbers_in(given, words=True))
    statements = " ".join(s for s in parts if not _is_question(s))
    new_numbers = [v for v in numbers_in(statements) if v not in known]
    return [
        float(reveals(text, reference, said, given, covered).revealed),
        float(reveals(text, reference, said, given, covered, questions_reveal=False).revealed),
        float(reference is not None),
        float("?" in text),
        float(text.rstrip().endswith("?")),
        questions / max(1, len(parts)),
        min(len(new_numbers), 3) / 3,
        min(len(asserted_results(text, said, given)), 3) / 3,
        min(len(text.split()), 100) / 100,
    ]


@dataclass(frozen=True)
class RevealClassifier:
    """Logistic-regression weights over [embedding, features]: P(reply reveals) ≥ threshold.
    Stored as a few KB of JSON beside this module; ``tutor eval mrbench --train`` writes it."""

    embedder: str
    dim: int
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    trained_on: str = ""

    def probability(self, vector: Sequence[float], features: Sequence[float]) -> float:
        if len(vector) != self.dim or len(features) != len(self.features):
            raise ValueError(f"the reveal classifier expects a {self.dim}-dimensional {self.embedder} vector and "
                             f"{len(self.features)} features; got {len(vector)} and {len(features)}")
        z = self.bias + sum(w * x for w, x in zip(self.weights, [*vector, *features]))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def fits(self, embedder: object) -> bool:
        """Whether vectors from this embedder are the ones the weights were trained on."""
        return getattr(embedder, "name", None) == self.embedder and getattr(embedder, "dim", self.dim) == self.dim

    def to_json(self) -> str:
        data = {"embedder": self.embedder, "dim": self.dim, "features": list(self.features),
                "trained_on": self.trained_on, "threshold": round(self.threshold, 4),
                "bias": round(self.bias, 6), "weights": [round(w, 6) for w in self.weights]}
        return json.dumps(data, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "RevealClassifier":
        data = json.loads(text)
        return cls(data["embedder"], int(data["dim"]), tuple(data["features"]), tuple(map(float, data["weights"])),
                   float(data["bias"]), float(data["threshold"]), data.get("trained_on", ""))


@lru_cache(maxsize=4)
def load_classifier(path: Path = CLASSIFIER_PATH) -> RevealClassifier | None:
    """The committed classifier, or None when the file is missing or was written for other
    features (then the rules decide alone)."""
    try:
        classifier = RevealClassifier.from_json(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return classifier if classifier.features == FEATURES else None


class _Embeds(Protocol):
    def embed_query(self, text: str) -> list[float]: ...


def guarded_reveals(text: str, reference: Reference | None, said: str, given: str = "",
                    covered: Iterable[str] = (), *, embedder: _Embeds | None = None,
                    vector: Sequence[float] | None = None,
                    classifier: RevealClassifier | None = None) -> RevealVerdict:
    """The reveal guard: the rules (``reveals``) read together with the reply's embedding by the
    trained classifier. ``vector``: the reply's embedding when the caller has it already (a
    batch); otherwise ``embedder.embed_query(text)``. Without an embedder the classifier fits,
    or without a classifier, the rules decide alone.

    A lesson card's key points (a reference with no final answer) are left to the rules too: the
    classifier learnt from maths replies and, on the course cards, reads a reply that restates a
    key point and then asks a question as not revealing (P 0.16–0.52, under the 0.56 threshold)
    where the rules catch it."""
    covered = tuple(covered)
    rules = reveals(text, reference, said, given, covered)
    if reference is not None and reference.final is None:
        return rules
    classifier = classifier or load_classifier()
    if classifier is None or (vector is None and (embedder is None or not classifier.fits(embedder))):
        return rules
    if vector is None:
        vector = embedder.embed_query(text)
    p = classifier.probability(vector, reveal_features(text, reference, said, given, covered))
    return RevealVerdict(p >= classifier.threshold, rules.points, rules.assertions, probability=p)

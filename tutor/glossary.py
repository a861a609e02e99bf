"""The course glossary: what the terms and people a student asks about are, in a sentence or two.

A blind offline trial asked "what is the testament?", "what does apparatus mean?" and "who was
actually in the power struggle?" and heard sentences that mention the thing instead of saying what
it is. ``corpus/glossary.yaml`` holds one checked definition per term, each with the course
document that states it; :meth:`Glossary.lookup` finds the entry a definitional question asks for.

>>> glossary = load_glossary(Path("corpus"))                                   # doctest: +SKIP
>>> glossary.lookup("wait, what was the secretariat, was it just typists?").term  # doctest: +SKIP
'the Secretariat'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from tutor.errors import TutorError
from tutor.lessons import LessonError, read_yaml
from tutor.pedagogy.answer import _LEAD, defined_term

GLOSSARY_FILE = "glossary.yaml"
MAX_DEFINITION = 600

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class GlossaryError(TutorError):
    """corpus/glossary.yaml cannot be used; the message names each entry and how to fix it."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("Invalid glossary:\n" + "\n".join(f"  - {p}" for p in problems)
                         + "\nFix the entries named above (`tutor lessons check` re-checks).")


class GlossaryEntry(BaseModel):
    """One term: how students write it (``aliases``), what it is (``definition``) and the course
    document that states it (``source``, the ``id:`` in the document's front matter)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: Text
    aliases: list[Text] = []
    definition: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20, max_length=MAX_DEFINITION)]
    source: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9-]*$")]

    @field_validator("definition")
    @classmethod
    def _plain(cls, text: str) -> str:
        # The reply asks its own question at the end and wraps quotations in curly quotes: a
        # question mark or a straight double quote in a definition would break both.
        if "?" in text:
            raise ValueError("a definition states what the term is; remove the question mark")
        if '"' in text:
            raise ValueError("use curly quotes (‘…’) or none: straight double quotes break the reply's quotation marks")
        if len(_SENTENCE_END.findall(text)) > 2:
            raise ValueError("one or two plain sentences; shorten it")
        if not text.endswith("."):
            raise ValueError("end the definition with a full stop")
        return text


_SENTENCE_END = re.compile(r"(?<!\b[A-Z])[.!](?=\s+[A-Z]|\s*$)")  # not an initial ("E. H. Carr")
# Words a student puts round a term that are not part of it: "who was *actually* in the power
# struggle", "what does the *word* apparatus *even* mean".
_FILLER = frozenset({"the", "a", "an", "actually", "really", "even", "exactly", "basically", "again", "word", "term",
                     "phrase", "so", "called", "this", "that", "though", "tho", "now"})
# "what does apparatus mean", "apparatus means what", "what is meant by X", "define X"
_MEANS = [re.compile(p, re.I) for p in (
    r"^what\s+(?:does|do)\s+(?P<x>.+?)\s+(?:\w+ly\s+)?(?:mean|stand\s+for)\b(?:\s+(?:here|again|exactly))?\W*$",
    r"^(?P<x>.+?)\s+(?:means?|meaning|is|was|were|are)\s+(?:who|what)\W*$",
    r"^(?:what(?:'s|\s+is|\s+was)\s+(?:the\s+)?(?:meaning|definition)\s+of|what\s+is\s+meant\s+by|"
    r"meaning\s+of|definition\s+of|define)\s+(?P<x>.+?)\W*$",
    # "what do you mean by the left and the right, werent they all communists?" (offline trial 14)
    r"^what\s+(?:do|did)\s+(?:you|u|they|we|historians|people)\s+mean\s+by\s+(?P<x>[^,?]+?)(?:\W*$|\s*,.*$|\s*\?.*$)",
    # "tell me who Kirov was", "(i don't get) what the nomenklatura is"
    r"^(?:(?:tell|remind)\s+me\s+|explain\s+)?(?:who|what)\s+(?!(?:was|were|is|are|did|does|do)\b)(?P<x>.+?)\s+"
    r"(?:was|were|is|are|means?)\W*$",
)]
# "…, was it just typists?": the guess after the comma is the student's, the term is before it.
_GUESS_AFTER = re.compile(r"\s*,\s*(?:was|were|is|are|did|does|and|or|like|just|only|basically|some|kind of|sort of|"
                          r"i think|i thought|i guess)\b.*$", re.I)


def normalise_term(text: str) -> str:
    """A term as the glossary compares it: lower case, no apostrophes, articles or filler words
    ("Lenin's Testament" → "lenins testament", "actually in the power struggle" → "power struggle")."""
    text = re.sub(r"['’`]", "", text.lower())
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in _FILLER]
    while words and words[0] in ("in", "of", "on", "about"):
        words = words[1:]  # "who was in the united opposition" asks who the United Opposition were
    return " ".join(words)


def asked_terms(question: str) -> list[str]:
    """The terms a definitional question may ask about ("wait, who was Kirov?" → ["kirov"]), most
    likely first; [] for any other question ("why was the testament not acted on?")."""
    q = " ".join(question.replace("’", "'").split()).strip()
    # The reader adds the sentence before a short question in brackets ("who is trotsky (sorry i don't
    # get it)"): context for a search, not part of the term (offline trial 13's lost student was never
    # told who Trotsky was).
    q = re.sub(r"\s*\([^()]*\)\s*$", "", q)
    q = re.sub(_LEAD, "", q, flags=re.I)
    q = re.sub(r"^(who|what)\s+(?:even|actually|exactly|really)\s+", r"\1 ", q, flags=re.I)  # "what even is X"
    q = re.sub(r"\bwhats\b", "what is", q, flags=re.I)
    q = re.sub(r"\bwhos\b", "who is", q, flags=re.I)
    q = _GUESS_AFTER.sub("", q)
    found = [m.group("x") for m in (p.match(q) for p in _MEANS) if m]
    found.append(defined_term(q))  # "what is meant by X" is also "what is <meant by X>": the specific form first
    # "the right and the left here, like republicans and democrats": the terms before the aside, each.
    for term in list(found):
        core = _ASIDE.split(term or "", 1)[0]
        found += [core] + re.split(r"\s+(?:and|or|vs\.?|versus)\s+|\s*/\s*", core)
    return list(dict.fromkeys(t for t in map(normalise_term, found) if t))


# Where a term ends and the student's aside begins: ", like …", " here", " in this", " exactly".
_ASIDE = re.compile(r"\s*,|\s+(?:like|here|in this|in all this|exactly|anyway|again|tho|though|then|lol)\b", re.I)


# Short names that are no everyday word: "the NEP was his idea" names the entry.
_SHORT_NAMES = frozenset({"nep", "rabkrin", "orgburo"})


def _allowed_edits(length: int) -> int:
    """Typos forgiven in a term of ``length`` letters: none in a short one ("right" is one letter
    from "fight"), one up to nine letters ("trotksy", "stallin"), two beyond ("nomenklatra")."""
    return 0 if length < 6 else 1 if length <= 9 else 2


def _abbreviates(alias: str, name: str) -> bool:
    """True when ``alias`` is the start of each word of ``name`` in turn ("gen sec", "gensec" and
    "general sec" of "general secretary", "sioc" of "socialism in one country"), not the name itself."""
    words = [w for w in name.split() if w not in ("the", "a", "an")]
    compact = alias.replace(" ", "")

    def fits(rest: str, i: int) -> bool:
        if i == len(words):
            return not rest
        return any(rest.startswith(words[i][:n]) and fits(rest[n:], i + 1) for n in range(1, len(words[i]) + 1))
    return len(words) > 1 and compact != "".join(words) and fits(compact, 0)


class Glossary:
    """The course's definitions, looked up by the question that asks for one."""

    def __init__(self, entries: list[GlossaryEntry]):
        self.entries = list(entries)
        self._by_key: dict[str, GlossaryEntry] = {}
        for entry in self.entries:
            for name in (entry.term, *entry.aliases):
                self._by_key.setdefault(normalise_term(name), entry)
        self._by_key.pop("", None)
        self._keys = list(self._by_key)
        # Aliases that abbreviate their entry's name ("gen sec", "gensec", "sioc"): a search needs the
        # name added. Other aliases are spellings the search corrects, or words of its own ("machine").
        self._shorthand = sorted((k for k, e in self._by_key.items()
                                  if len(k.replace(" ", "")) >= 4 and _abbreviates(k, normalise_term(e.term))),
                                 key=len, reverse=True)

    def __len__(self) -> int:
        return len(self.entries)

    def names(self) -> tuple[str, ...]:
        """The terms and aliases as written, for the course's vocabulary (a message naming one is on
        topic): those of six letters or more, since "the Left" and "the Right" are everyday words too."""
        return tuple(dict.fromkeys(n for e in self.entries for n in (e.term, *e.aliases)
                                   if len(normalise_term(n).replace(" ", "")) >= 6))

    def lookup(self, question: str) -> GlossaryEntry | None:
        """The entry a definitional question ("what is/was X", "what does X mean", "who were X",
        "X means what?") asks for; None for any other question or a term the glossary lacks.
        Precision first: a typo is forgiven only within a few letters, and a term as close to two
        entries as to one is no match."""
        for term in asked_terms(question):
            entry = self._match(term)
            if entry is not None:
                return entry
        return None

    def lookup_all(self, question: str, limit: int = 4) -> list[GlossaryEntry]:
        """Every entry a definitional question asks about when it names a short list ("who were trotsky
        zinoviev kamenev and bukharin??", "what do you mean by the left and the right"), in its order;
        else the one ``lookup`` finds, or []. Each name must be an entry: a list with one unknown
        word is read as one term."""
        for term in asked_terms(question)[:1]:
            pieces = [p for p in re.split(r"\s*,\s*|\s+(?:and|&|or|vs\.?|versus)\s+|\s*/\s*", term) if p]
            found: list[GlossaryEntry] = []
            for piece in pieces:
                entry = self._match(normalise_term(piece))
                words = normalise_term(piece).split()
                if entry is None and len(words) > 1:
                    each = [self._match(w) for w in words]
                    if all(each):
                        found += each
                        continue
                if entry is None:
                    found = []
                    break
                found.append(entry)
            unique = list({e.term: e for e in found}.values())
            if len(unique) >= 2:
                return unique[:limit]
        entry = self.lookup(question)
        return [entry] if entry else []

    def mentioned(self, text: str, limit: int = 2) -> list[GlossaryEntry]:
        """The entries whose term or an alias the text names (whole words, longest names first),
        in the order they come in it: "surely that's when the five-year plan started??" names the
        Five-Year Plan, whose definition dates it."""
        low = f" {normalise_term(text)} "
        found: dict[str, tuple[int, GlossaryEntry]] = {}
        for key in sorted(self._keys, key=len, reverse=True):
            if len(key.replace(" ", "")) < 6 and key not in _SHORT_NAMES:
                continue  # "the left", "the right": everyday or too short to name the entry by themselves
            at = low.find(f" {key} ")
            entry = self._by_key[key]
            if at >= 0 and entry.term not in found:
                found[entry.term] = (at, entry)
        return [e for _, e in sorted(found.values(), key=lambda x: x[0])][:limit]

    def expanded(self, query: str) -> str:
        """The query with the glossary's own name added for each term it writes as an abbreviation of
        that name ("is the gen sec thing important" + "General Secretary", "was sioc his?" + "socialism
        in one country"): a search for the student's shorthand found nothing on the post (offline trial
        13, twice the same passage on the Commissariat of Nationalities)."""
        low = f" {normalise_term(query)} "
        extra: list[str] = []
        for key in self._shorthand:
            entry = self._by_key[key]
            if f" {key} " in low and entry.term not in extra and f" {normalise_term(entry.term)} " not in low:
                extra.append(entry.term)
        return " ".join([query, *extra]) if extra else query

    def _match(self, term: str) -> GlossaryEntry | None:
        if term in self._by_key:
            return self._by_key[term]
        allowed = _allowed_edits(len(term.replace(" ", "")))
        if not allowed:
            return None
        # Numbers are not typos: "15th congress" is not the 14th.
        digits = re.findall(r"\d+", term)
        keys = [k for k in self._keys if re.findall(r"\d+", k) == digits]
        found = process.extract(term, keys, scorer=DamerauLevenshtein.distance, score_cutoff=allowed, limit=None)
        # A key is held to its own length's allowance too: a ten-letter typo may not take two
        # edits to reach a six-letter name.
        found = [(k, d) for k, d, _ in found if d <= _allowed_edits(len(k.replace(" ", "")))]
        if not found:
            return None
        best = min(d for _, d in found)
        entries = {self._by_key[k].term: self._by_key[k] for k, d in found if d == best}
        return next(iter(entries.values())) if len(entries) == 1 else None


def load_glossary(corpus_dir: Path, known_docs: set[str] | None = None) -> Glossary:
    """The glossary in ``corpus_dir``/glossary.yaml (an empty one where the corpus has none);
    GlossaryError listing every invalid entry, alias used twice or unknown source document."""
    path = Path(corpus_dir) / GLOSSARY_FILE
    if not path.is_file():
        return Glossary([])
    try:
        data = read_yaml(path.read_bytes(), GLOSSARY_FILE)
    except LessonError as exc:
        raise GlossaryError(exc.problems) from None
    except OSError as exc:
        raise GlossaryError([f"{GLOSSARY_FILE}: cannot be read ({exc.strerror})"]) from None
    if data is None:
        return Glossary([])
    if not isinstance(data, list):
        raise GlossaryError([f"{GLOSSARY_FILE}: the top level must be a list of entries "
                             "(each '- term: …' with aliases, definition and source)"])
    problems: list[str] = []
    entries: list[GlossaryEntry] = []
    for n, row in enumerate(data, start=1):
        name = row.get("term") if isinstance(row, dict) else None
        label = f"{GLOSSARY_FILE}: entry {n}" + (f" ('{name}')" if isinstance(name, str) else "")
        try:
            entries.append(GlossaryEntry.model_validate(row))
        except ValidationError as exc:
            for e in exc.errors():
                where = ".".join(str(x) for x in e["loc"]) or "(entry)"
                msg = e["msg"].removeprefix("Value error, ")
                if e["type"] == "missing":
                    msg = "missing; every entry needs term, definition and source (aliases optional)"
                elif e["type"] == "extra_forbidden":
                    msg = "not a glossary field; use term, aliases, definition, source"
                problems.append(f"{label}: {where}: {msg}")
    owner: dict[str, str] = {}
    for entry in entries:
        for name in dict.fromkeys(normalise_term(a) for a in (entry.term, *entry.aliases)):
            if not name:
                problems.append(f"{GLOSSARY_FILE}: '{entry.term}': an alias made only of filler words; remove it")
            elif owner.setdefault(name, entry.term) != entry.term:
                problems.append(f"{GLOSSARY_FILE}: '{entry.term}': alias '{name}' also names '{owner[name]}'; "
                                "keep it on one entry")
        if known_docs is not None and entry.source not in known_docs:
            problems.append(f"{GLOSSARY_FILE}: '{entry.term}': source: unknown document '{entry.source}' "
                            "(use the id: in a corpus/sources document's front matter)")
    if problems:
        raise GlossaryError(problems)
    return Glossary(entries)

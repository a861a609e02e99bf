"""The Tutor engine: owns one turn of the Socratic dialogue, ``Tutor.reply(session, message)``,
for the UI, the CLI and the evaluation. It is built by ``tutor.services.build``.

A turn: classify → retrieve → match the lesson card → the learner observes the message → choose
a move → compose (offline, or worded by a model through tutor.model_turn) → check. The student's
message is in the session before anything can fail, so no turn is lost.

Example (see tests/test_engine_offline.py for it run)::

    tutor = build(get_settings()).tutor
    reply = tutor.reply(Session(), "just tell me why stalin won")
    reply.move["kind"], reply.mode      # ('decline_and_scaffold', 'offline')
"""

from __future__ import annotations

import time
import unicodedata
import zlib

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from tutor.citations import cited_numbers
from tutor.documents import clean_text
from tutor.errors import RateLimited
from tutor.lessons import DEFAULT_CARD, LessonCard, Lessons
from tutor.limits import RateLimiter
from tutor.model_turn import Brief, ModelTurn, passages_block
from tutor.pedagogy.checks import Check, CheckContext, quoted_spans, run_checks
from tutor.pedagogy.compose import Citation, compose_offline
from tutor.pedagogy.intent import Intent, classify, word_count
from tutor.pedagogy.learner import KeyPointMatcher, LearnerState
from tutor.pedagogy.moves import MOVE_LABELS, Move, choose, has_evidence
from tutor.prompts import Prompts
from tutor.retrieval import Retriever
from tutor.settings import Settings
from tutor.store import Passage
from tutor.turn import OFFLINE, Reply, Session, Turn

__all__ = ["DEFAULT_CARD", "MAX_MESSAGE_CHARS", "RateLimiter", "Reply", "Session", "Tutor"]

MAX_MESSAGE_CHARS = 20_000
CARD_SWITCH_SCORE = 1.0
STICKINESS = 1.0  # how much more a new card must score to take over a conversation
# Moves whose model reply must point to a passage (the offline composer always quotes one).
CITING_MOVES = frozenset({"hint", "decline_and_scaffold", "probe_misconception", "correct_date"})
FALLBACK_NOTICE = "This reply comes from the offline course-materials tutor because {reason}. Your conversation is safe."


class Tutor:
    """The Socratic dialogue engine. Thread-safe: sessions carry all per-student state.

    ``model`` (a ModelTurn) words the replies when a model is configured; ``coach`` (the essay
    coach) answers a pasted essay. Both are given by ``tutor.services.build``."""

    def __init__(self, *, retriever: Retriever, lessons: Lessons, prompts: Prompts, settings: Settings,
                 model: ModelTurn | None = None, embedder=None, coach=None):
        self.retriever = retriever
        self.lessons = lessons
        self.prompts = prompts
        self.settings = settings
        self.model = model
        self.matcher = KeyPointMatcher(embedder)
        self.coach = coach
        self.mode = model.mode if model is not None else OFFLINE
        self.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
        self._secret_lines = prompts.secret_lines()

    @property
    def chat_model(self):
        """The configured chat model (None offline)."""
        return self.model.model if self.model is not None else None

    def warm(self) -> None:
        """Load the embedder and build the BM25 index now rather than on a student's first turn."""
        self.retriever.search("Stalin General Secretary", k=1)
        for card in self.lessons.cards:
            self.matcher.relevance(card, card.question)

    def new_session(self) -> Session:
        return Session()

    # -- the turn ------------------------------------------------------------------------
    def reply(self, session: Session, message: str, *, client: str | None = None) -> Reply:
        """One turn. ``client`` names who is asking (the browser's address) for the rate limit,
        which is per client so a new conversation does not reset it; the session id otherwise."""
        started = time.perf_counter()
        message = clean_text(message or "").strip()
        # Zero-width and other invisible characters alone are an empty message too.
        if not any(not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc", "Zs") for ch in message):
            return self._plain(session, "Type a question or a point you want to test — for example, "
                                        "“Why was Lenin's Testament not acted on?”", "empty")
        try:
            self.rate_limiter.check(client or session.id)
        except RateLimited as exc:
            return self._plain(session, str(exc), "rate_limited")
        notice = None
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[:MAX_MESSAGE_CHARS]
            notice = f"Your message was very long, so I read the first {MAX_MESSAGE_CHARS:,} characters."
        # Recorded first: whatever fails below, the student's turn is kept.
        session.add(Turn(role="user", content=message))
        state = session.learner
        intent = classify(message, in_conversation=len(session.history) > 1)

        if intent.kind == "essay" and self.coach is not None:
            reply = self.coach.chat_reply(session, message)
            reply.notice = " ".join(filter(None, [notice, reply.notice])) or None  # e.g. "message was cut"
            reply.latency_ms = (time.perf_counter() - started) * 1000
            session.add(reply.turn())
            return reply

        misconception_cards = self.lessons.misconceptions_in(message)
        card, passages, query = self._ground(message, intent, state, misconception_cards)
        misconceptions = [m for c, m in misconception_cards]
        date_errors = self.lessons.date_errors(message)
        state.observe([m.id for m in misconceptions], [e.event.id for e in date_errors])

        newly: set[str] = set()
        if intent.kind in ("claim", "essay") and not misconceptions:
            newly = state.mark_covered(card.id, self.matcher.expressed(card, message))
        relevance = self.matcher.relevance(card, message)
        move = choose(intent, state, card, misconceptions=misconceptions, date_errors=date_errors,
                      relevance=relevance, newly_covered=newly, with_evidence=has_evidence(message),
                      templates=self.prompts.offline, message=message)
        passages = self._focus(passages, move, query)

        reply = self._compose(session, message, intent, move, passages, notice)
        state.record(move.kind, card.id)
        reply.latency_ms = (time.perf_counter() - started) * 1000
        session.add(reply.turn())
        return reply

    def _ground(self, message: str, intent: Intent, state: LearnerState,
                misconception_cards: list) -> tuple[LessonCard, list[Passage], str]:
        """The lesson card for this turn, the passages retrieved for it, and the search query."""
        current = self.lessons.get(state.card_id)
        query = message[:1500]
        if current and (word_count(message) <= 8 or intent.kind in ("dont_know", "injection", "off_topic")):
            query = f"{current.question} {query}"
        passages = [] if intent.kind == "off_topic" and current is None else self.retriever.search(query, k=5)
        if misconception_cards:
            return misconception_cards[0][0], passages, query
        # The words of the message decide the card; the retrieved documents only rank cards the
        # words already point to (or, for a content question naming no card, choose one).
        said = {c.id: score for c, score in self.lessons.match(message)}
        ranked = self.lessons.match(message, [p.doc_id for p in passages] if intent.on_topic else None)
        if current is not None:
            # A conversation stays on its card unless the message clearly names another one.
            ranked = [(c, s + (STICKINESS if c.id == current.id else 0.0)) for c, s in ranked]
            ranked.sort(key=lambda x: -x[1])
        best, score = ranked[0]
        if current is not None:
            if best.id == current.id or not intent.on_topic or said.get(best.id, 0.0) < CARD_SWITCH_SCORE:
                return current, passages, query
            return best, passages, query
        if said.get(best.id, 0.0) > 0 or (intent.kind in ("question", "claim") and score >= CARD_SWITCH_SCORE):
            return best, passages, query
        return self.lessons.get(DEFAULT_CARD) or best, passages, query

    def _focus(self, passages: list[Passage], move: Move, query: str) -> list[Passage]:
        """Make sure the move's first two focus documents (the key point's sources, the document
        that corrects a misconception or dates an event) are among the passages shown, and for a
        date correction a passage that gives the right year. The turn's own query is reused, so
        its embedding is cached and each extra search costs little."""
        year = str(move.date_error.event.years[0]) if move.date_error else None
        extra: list[Passage] = []
        for doc_id in move.focus_docs[:2]:
            if any(p.doc_id == doc_id and (year is None or year in p.text) for p in passages + extra):
                continue
            hits = self.retriever.search(query, k=3 if year else 1, doc_id=doc_id)
            extra.extend([h for h in hits if year is None or year in h.text][:1])
        if not extra:
            return passages
        seen = {p.id for p in extra}
        return extra + [p for p in passages if p.id not in seen]

    def _context(self, session: Session, move: Move, passages: dict[int, str]) -> CheckContext:
        card = move.card
        state = session.learner
        others = []
        main = self.lessons.get(DEFAULT_CARD)
        if main is not None and (card is None or card.id != main.id):
            others.append((main, state.covered_on(main.id)))
        # A probe may name the correction it is about (who really said it); that is not the answer.
        allowed = [move.question, move.counter or "", session.student_text(),
                   move.misconception.why_wrong if move.misconception else ""]
        return CheckContext(passages=passages, card=card,
                            covered=state.covered_on(card.id) if card else set(),
                            allowed_text="\n".join(allowed), secret_lines=self._secret_lines, other_cards=others,
                            lessons=self.lessons)

    def _offline(self, session: Session, message: str, intent: Intent, move: Move,
                 passages: list[Passage]) -> tuple[str, list[Citation], list[Check]]:
        state = session.learner
        covered = state.covered_on(move.card.id) if move.card else set()
        guard = self._context(session, move, {})
        # Wording varies with the turn and the message, deterministically (tests stay repeatable).
        variant = state.turns + zlib.crc32(message.lower().encode("utf-8")) % 97
        text, citations = compose_offline(move, passages, self.prompts.offline, message=message, turn=variant,
                                          covered=covered, leaks=lambda t: guard.leaks(t) or guard.summarises(t),
                                          intent_kind=intent.kind)
        ctx = self._context(session, move, {c.n: c.text for c in citations})
        return text, citations, run_checks(text, ctx)

    def _compose(self, session: Session, message: str, intent: Intent, move: Move,
                 passages: list[Passage], notice: str | None) -> Reply:
        move_info = move.as_dict()
        card_id = move.card.id if move.card else None
        if self.model is not None:
            shown = passages[:4]
            ctx = self._context(session, move, {n: p.text for n, p in enumerate(shown, start=1)})
            ctx.require_citation = bool(shown) and move.kind in CITING_MOVES
            outcome = self.model.run(Brief(self.model_messages(session, message, move, shown),
                                           check=lambda text: run_checks(text, ctx), notice=FALLBACK_NOTICE,
                                           checker="the tutor's checks"))
            if outcome.ok:
                return Reply(outcome.text, self._citations(outcome.text, shown), move_info, card_id, outcome.checks,
                             self.mode, intent.kind, notice, shown)
            notice = " ".join(filter(None, [notice, outcome.notice]))
        text, citations, checks = self._offline(session, message, intent, move, passages)
        return Reply(text, citations, move_info, card_id, checks, OFFLINE, intent.kind, notice, passages)

    def model_messages(self, session: Session, message: str, move: Move, shown: list[Passage]) -> list[BaseMessage]:
        """The prompt for one model turn: system rules, recent turns, then this turn's brief."""
        template = self.prompts.move(move.kind)
        fields = {
            "correct": move.date_error.correct if move.date_error else "",
            "stated": move.date_error.stated_year if move.date_error else "",
            "why_wrong": move.misconception.why_wrong if move.misconception else "",
            "counter": move.counter or "",
            "covered": ", ".join(sorted(session.learner.covered_on(move.card.id))) if move.card else "",
            "analysis": "",
        }
        brief = template.format(**fields)
        messages: list[BaseMessage] = [SystemMessage(self.prompts.system)]
        for turn in session.history[-7:-1]:
            cls = HumanMessage if turn["role"] == "user" else AIMessage
            messages.append(cls(turn["content"][:2000]))
        lesson = f"Lesson question: {move.card.question}\n" if move.card else ""
        rows = [{"n": n, "title": p.title, "kind": p.kind, "text": p.text} for n, p in enumerate(shown, start=1)]
        messages.append(HumanMessage(
            f"{passages_block(rows)}\n\n{lesson}What to do this turn: {brief.strip()}\n"
            f"Question to end with (you may reword it slightly): {move.question}\n\n"
            f"The student's message:\n<student_message>\n{message[:4000]}\n</student_message>"))
        return messages

    @staticmethod
    def _citations(text: str, shown: list[Passage]) -> list[Citation]:
        spans = {n: span for span, n in quoted_spans(text) if n}
        out = []
        for n in cited_numbers(text):
            if 1 <= n <= len(shown):
                p = shown[n - 1]
                out.append(Citation(n, p.id, p.doc_id, p.title, p.kind, p.page, spans.get(n, ""), p.text))
        return out

    def _plain(self, session: Session, text: str, kind: str) -> Reply:
        """A reply the engine gives itself (empty message, too many messages); not recorded."""
        return Reply(text, [], {"kind": kind, "label": MOVE_LABELS.get(kind, kind.replace("_", " "))}, None, [],
                     self.mode, kind)

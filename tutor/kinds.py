"""Owns the names of things the tutor passes around as kinds: who speaks in a turn, what a
student's message is, what move the tutor makes, how a reply was worded, how an ingest ended.
A bottom-layer module (it imports nothing of the project), so every layer can name them.

>>> from typing import get_args
>>> "decline_and_scaffold" in get_args(MoveKind) and "answer_request" in get_args(IntentKind)
True
"""

from __future__ import annotations

from typing import Literal

Role = Literal["user", "assistant"]
# What the student's message is (tutor.pedagogy.intent), plus the two the engine answers itself.
IntentKind = Literal["greeting", "injection", "off_topic", "answer_request", "writing_request", "dont_know",
                     "essay", "claim", "question", "empty", "rate_limited"]
# What the tutor does this turn (tutor.pedagogy.moves), plus the essay coach's and the engine's own.
MoveKind = Literal["greet", "redirect", "refuse_instructions", "correct_date", "probe_misconception", "hint",
                   "decline_and_scaffold", "counter_argument", "ask_evidence", "summarise_and_judge",
                   "essay_feedback", "empty", "rate_limited", "bottom_out", "answer_question", "confirm",
                   "next_card", "test_claim"]
# What the student is doing in the conversation (tutor.pedagogy.acts): the intent read in context.
ActKind = Literal["greeting", "injection", "off_topic", "essay", "answer_request", "writing_request", "dont_know",
                  "complaint", "summary", "confirm", "answer", "claim", "question", "switch", "return"]
# "offline" or the name of the model that worded the reply.
Mode = str
OFFLINE: Mode = "offline"
IngestStatus = Literal["added", "updated", "unchanged", "flagged", "skipped", "failed"]
INGEST_OK: frozenset[str] = frozenset({"added", "updated", "unchanged"})

"""No repetition within a session: questions, opening sentences, quoted sentences and
counter-arguments are compared (rapidfuzz) with everything the tutor has already said.

>>> guard = RepeatGuard({"question": ["Which office did Stalin get in 1922?"]})
>>> guard.seen("question", "Which office did Stalin get in 1922 ?")
True
>>> guard.fresh("opening", ["Right.", "Yes."], start=0)
'Right.'
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz

SIMILAR = 86  # token-sort ratio at or above which two sentences count as the same sentence
KINDS = ("question", "opening", "quote", "counter")


# Cached: every earlier sentence of the conversation is compared on every turn.
@lru_cache(maxsize=8192)
def _norm(text: str) -> str:
    text = re.sub(r"\[\d+\]", " ", text.lower())
    return " ".join(re.findall(r"[a-z0-9']+", text))


def similar(a: str, b: str, threshold: int = SIMILAR) -> bool:
    na, nb = _norm(a), _norm(b)
    if not na or not nb:
        return False
    return na == nb or fuzz.token_sort_ratio(na, nb) >= threshold


class RepeatGuard:
    """What has been said, by kind (the learner state's ``said``), and checks against it."""

    def __init__(self, said: dict[str, list[str]] | None = None):
        self.said = said if said is not None else {}

    def seen(self, kind: str, text: str) -> bool:
        return any(similar(text, old) for old in self.said.get(kind, []))

    def seen_anywhere(self, text: str) -> bool:
        return any(self.seen(kind, text) for kind in self.said)

    def fresh(self, kind: str, options: list[str], start: int = 0) -> str:
        """The first option, from ``start`` round the list, not said before; if all were, the
        one least like anything said."""
        if not options:
            return ""
        order = [options[(start + i) % len(options)] for i in range(len(options))]
        for option in order:
            if not self.seen(kind, option):
                return option
        said = self.said.get(kind, [])
        return min(order, key=lambda o: max((fuzz.token_sort_ratio(_norm(o), _norm(s)) for s in said), default=0))

    def add(self, kind: str, text: str) -> None:
        if text:
            self.said.setdefault(kind, []).append(text)


# Not after an initial ("Robert V. Daniels", "E. H. Carr"): relay trial 51's opening was kept as
# "Yes, that's Robert V.".
_SENTENCE_END = re.compile(r"(?<!\b[A-Z]\.)(?<=[.!?])\s+(?=[A-Z“\"‘])")


def opening_of(text: str) -> str:
    """The reply's first sentence (what a student reads as its opening)."""
    first = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    return first.strip()


def question_of(text: str) -> str:
    """The reply's last sentence ending in '?', citations stripped."""
    body = re.sub(r"\s*\[\d+\]", "", text.strip())
    parts = re.split(r"(?<=[.!?”])\s+", body)
    for part in reversed(parts):
        if part.rstrip(" ”’\"'").endswith("?"):
            return part.strip()
    return ""


def quotes_of(text: str) -> list[str]:
    return [m.strip() for m in re.findall(r"“([^”]{12,400})”", text)]

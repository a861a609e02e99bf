"""Misconception triggers: patterns matched in linear time (RE2), whoever wrote them.

A card's triggers run on every student message in the serving process. Python's `re`
backtracks: the published trigger ``^(\\w+\\s?)*$`` held the interpreter ~30 s on a 28-character
message, for every student. RE2 (the `google-re2` binding) matches in time linear in the text
and refuses what would need backtracking (look-arounds, back-references), so a trigger either
compiles into something safe or is refused at validation with a message saying how to fix it.

What a look-behind used to say ("(?<!not )only because ...") a misconception says with
``unless``: patterns that, found in the same sentence as a trigger's match, rule the match out.

>>> t = Trigger(r"only because .{0,20}general secretary", unless=[r"\\bnot only because"])
>>> bool(t.search("Stalin won only because he was General Secretary"))
True
>>> bool(t.search("Stalin won not only because he was General Secretary"))
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import re2

_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False
_OPTIONS.log_errors = False  # the refusal is our message, not a line on stderr
# A trigger is a phrase pattern; a bigger compiled program is a mistake or an attack.
_OPTIONS.max_mem = 1 << 20
_SENTENCE_ENDS = (b".", b"!", b"?", b"\n")
# Python's re here: one character class cannot backtrack, and re2 would re-encode the whole
# message on every call.
_SENTENCE_END = re.compile(rb"[.!?\n]")

SYNTAX_HELP = ("Triggers use RE2 syntax, matched in linear time: no look-ahead or look-behind "
               "((?=…), (?!…), (?<=…), (?<!…)) and no back-references (\\1). Put the words that rule a "
               "match out in the misconception's `unless` list instead (same sentence).")


class TriggerError(ValueError):
    """A trigger RE2 cannot compile; the message names the pattern and the fix."""


def compile_pattern(pattern: str) -> re2._Regexp:
    """The pattern compiled case-insensitively by RE2; TriggerError saying why not."""
    try:
        return re2.compile(_utf8(pattern) if isinstance(pattern, str) else pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise TriggerError(f"trigger {pattern!r} cannot be used ({reason}). {SYNTAX_HELP}") from None
    except TypeError as exc:
        raise TriggerError(f"trigger {pattern!r} cannot be used ({exc}); a trigger is plain text") from None


def _utf8(text: str) -> bytes:
    """Text as RE2 reads it. A lone surrogate (a broken clipboard; a fact's sentence quoting
    one) cannot be UTF-8: it becomes U+FFFD, in a message and in a pattern alike."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


# A turn runs every trigger on the same message: encode it once (the binding would, per trigger).
_message = lru_cache(maxsize=4)(_utf8)


def _sentence(data: bytes, start: int, end: int, after: int) -> tuple[int, int]:
    """The sentence around data[start:end], looking back no further than ``after`` (the end of
    the sentence looked at before), so the matches of one message cost one pass."""
    lo = max(data.rfind(c, after, start) for c in _SENTENCE_ENDS) + 1
    hi = _SENTENCE_END.search(data, end)
    return max(lo, after), hi.start() if hi else len(data)


@dataclass(frozen=True)
class TriggerMatch:
    """What a trigger matched, as text (the part of ``re.Match`` its callers use)."""

    text: str

    def group(self, n: int = 0) -> str:
        if n != 0:
            raise IndexError("a trigger match has only group 0")
        return self.text


class Trigger:
    """One trigger with its misconception's ``unless`` patterns; ``search`` has the shape of
    ``re.Pattern.search`` (a match with ``group(0)``, or None)."""

    def __init__(self, pattern: str, unless: list[str] | tuple[str, ...] = ()):
        self.pattern = pattern
        self._regex = compile_pattern(pattern)
        self._unless = [compile_pattern(u) for u in unless]

    def search(self, text: str) -> TriggerMatch | None:
        data = _message(text)
        if not self._unless:
            match = self._regex.search(data)
            return TriggerMatch(match.group(0).decode("utf-8", "replace")) if match else None
        lo = hi = 0
        ruled_out = False
        for match in self._regex.finditer(data):
            if match.start() >= hi:  # a new sentence: one look per sentence keeps it linear
                lo, hi = _sentence(data, match.start(), match.end(), hi)
                ruled_out = any(u.search(data[lo:hi]) for u in self._unless)
            if not ruled_out:
                return TriggerMatch(match.group(0).decode("utf-8", "replace"))
        return None

    def __repr__(self) -> str:
        return f"Trigger({self.pattern!r})"

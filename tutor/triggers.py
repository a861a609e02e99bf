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

import re2

_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False
_OPTIONS.log_errors = False  # the refusal is our message, not a line on stderr
# A trigger is a phrase pattern; a bigger compiled program is a mistake or an attack.
_OPTIONS.max_mem = 1 << 20
_SENTENCE_ENDS = ".!?\n"
# Python's re here: one character class cannot backtrack, and re2 would re-encode the whole
# message on every call.
_SENTENCE_END = re.compile(r"[.!?\n]")

SYNTAX_HELP = ("Triggers use RE2 syntax, matched in linear time: no look-ahead or look-behind "
               "((?=…), (?!…), (?<=…), (?<!…)) and no back-references (\\1). Put the words that rule a "
               "match out in the misconception's `unless` list instead (same sentence).")


class TriggerError(ValueError):
    """A trigger RE2 cannot compile; the message names the pattern and the fix."""


def compile_pattern(pattern: str) -> re2._Regexp:
    """The pattern compiled case-insensitively by RE2; TriggerError saying why not."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise TriggerError(f"trigger {pattern!r} cannot be used ({reason}). {SYNTAX_HELP}") from None
    except (TypeError, UnicodeEncodeError) as exc:
        raise TriggerError(f"trigger {pattern!r} cannot be used ({exc}); a trigger is plain text") from None


def _encodable(text: str) -> str:
    # RE2 reads UTF-8; a lone surrogate (pasted from a broken clipboard) cannot be encoded.
    # One '?' per surrogate keeps every offset where it was.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _sentence(text: str, start: int, end: int, after: int) -> tuple[int, int]:
    """The sentence around text[start:end], looking back no further than ``after`` (the end of
    the sentence looked at before), so the matches of one message cost one pass."""
    lo = max(text.rfind(c, after, start) for c in _SENTENCE_ENDS) + 1
    hi = _SENTENCE_END.search(text, end)
    return max(lo, after), hi.start() if hi else len(text)


class Trigger:
    """One trigger with its misconception's ``unless`` patterns; ``search`` has the shape of
    ``re.Pattern.search`` (a match object with ``group(0)``, or None)."""

    def __init__(self, pattern: str, unless: list[str] | tuple[str, ...] = ()):
        self.pattern = pattern
        self._regex = compile_pattern(pattern)
        self._unless = [compile_pattern(u) for u in unless]

    def search(self, text: str):
        text = _encodable(text)
        lo = hi = 0
        ruled_out = False
        for match in self._regex.finditer(text):
            if not self._unless:
                return match
            if match.start() >= hi:  # a new sentence: one look per sentence keeps it linear
                lo, hi = _sentence(text, match.start(), match.end(), hi)
                ruled_out = any(u.search(text[lo:hi]) for u in self._unless)
            if not ruled_out:
                return match
        return None

    def __repr__(self) -> str:
        return f"Trigger({self.pattern!r})"

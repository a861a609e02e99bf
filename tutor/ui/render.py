"""Text for the page, made safe: student, model and document text is escaped before it reaches
Markdown, and a cited span is highlighted by bolding the escaped span (no HTML anywhere).

>>> escape_markdown("*not bold* [link](x)")
'\\\\*not bold\\\\* \\\\[link\\\\]\\\\(x\\\\)'
>>> highlight("Stalin became General Secretary in 1922. Lenin objected.", "Stalin became General Secretary in 1922.")
'**Stalin became General Secretary in 1922\\\\.** Lenin objected\\\\.'
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator
from urllib.parse import urlencode

# Every ASCII character CommonMark lets a backslash escape, plus the ones Streamlit gives
# meaning to (``$`` for LaTeX, ``:`` for emoji and colour directives, ``~`` for strikethrough).
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$:~&=\"'^])")
OFFLINE_BANNER = "Offline course-materials tutor"


# GitHub's autolink literals turn a bare "https://host", "www.host" or "name@host.org" into a
# live link, escaped or not. A word joiner (invisible, zero width) after the scheme, the "www"
# or the "@" breaks the literal: the student reads the same text, and nothing links to a host
# the course did not choose. The app's own links (the Sources page) are made by source_link.
_AUTOLINK = re.compile(r"(?i)(?<![^\W_])(?:https?|ftp|mailto|xmpp)(?=:)|(?<![^\W_])www(?=\.)|@(?=[\w-])")
WORD_JOINER = "\u2060"


def break_autolinks(text: str) -> str:
    """The text with every URL, www. address and e-mail address made inert (not a link)."""
    return _AUTOLINK.sub(lambda m: m.group(0) + WORD_JOINER, text)


def escape_markdown(text: str) -> str:
    """Text shown literally by ``st.markdown``: no formatting, links (autolinks included),
    HTML, LaTeX or emoji codes."""
    return _SPECIAL.sub(r"\\\1", break_autolinks(str(text or "")))


# An absolute POSIX or Windows path of two or more parts (a file or folder on the server).
_PATH = re.compile(r"(?<![\w:/.~-])(?:[A-Za-z]:\\|/)(?:[^\s/\\'\"`()<>]+[/\\])+[^\s/\\'\"`()<>,;]*")


def redact_paths(text: str) -> str:
    """The text with server paths cut to their last part ("…/chroma"), so a message shown in
    the browser does not tell students where the app keeps its data."""
    def short(match: re.Match) -> str:
        path = match.group(0)
        end = path.rstrip(".:")  # the full stop after a path ends the sentence, not the path
        tail = end.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
        return (f"…/{tail}" if tail else "…") + path[len(end):]
    return _PATH.sub(short, str(text or ""))


def escape_stream(pieces: Iterable[str], limit: int | None = None) -> Iterator[str]:
    """Escape a streamed reply piece by piece. The last word of a piece is held back until the
    next one, so "htt" + "ps://host" is seen whole and made inert; with ``limit``, the reply
    stops at that many characters (as clip_reply)."""
    carry, shown = "", 0
    for piece in pieces:
        text = carry + piece
        cut = max(text.rfind(c) for c in " \n\t") + 1
        carry = text[cut:]
        head = text[:cut]
        if limit is not None and shown + len(head) > limit:
            yield escape_markdown(clip_reply(head, limit - shown))
            return
        shown += len(head)
        if head:
            yield escape_markdown(head)
    if carry:
        yield escape_markdown(carry if limit is None else clip_reply(carry, limit - shown))


# The longest reply a student is shown. A reply is a few sentences (the model's are checked to
# be under 140 words); anything longer is a fault, and a megabyte of text stalls the browser.
MAX_REPLY_CHARS = 4000
CLIPPED = " … (the rest of this reply was too long to show)"


def clip_reply(text: str, limit: int = MAX_REPLY_CHARS) -> str:
    """The reply as shown: at most ``limit`` characters, cut at a word, saying it was cut."""
    if len(text) <= limit:
        return text
    head = text[:max(0, limit)]
    return (head.rsplit(" ", 1)[0] if " " in head[-200:] else head) + CLIPPED


def reply_markdown(text: str, citations: Iterable[dict[str, Any]]) -> str:
    """A reply as the chat shows it: clipped, escaped, its [n] markers linked to the Sources page."""
    return link_citations(escape_markdown(clip_reply(text)), citations)


_ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.)\s*")


def _span(text: str, quote: str, start: int = 0) -> tuple[int, int] | None:
    """Where the quote sits in the text (from ``start``), allowing for different whitespace and
    straight or curly quote marks."""
    quote = quote.strip().strip("“”\"")
    if not quote:
        return None
    at = text.find(quote, start)
    if at >= 0:
        return at, at + len(quote)
    words = quote.split()
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.compile(pattern).search(text, start)
    if match is None:
        # The quote may have straightened curly quotes (or the reverse).
        loose = pattern.replace("“", ".").replace("”", ".").replace('\\"', ".").replace("’", ".").replace("'", ".")
        match = re.compile(loose).search(text, start)
    return (match.start(), match.end()) if match else None


def _spans(text: str, quote: str) -> list[tuple[int, int]]:
    """The quote's pieces in the text, in order: a quote shortened with '…' (at either end or in
    the middle) is found piece by piece."""
    pieces = [p for p in _ELLIPSIS.split(quote.strip().strip("“”\"")) if len(p.split()) >= 2 or len(p) >= 12]
    found, at = [], 0
    for piece in pieces:
        where = _span(text, piece, at)
        if where is None:
            continue
        start, end = where
        # Bold markers must touch non-space characters to count, so keep edge spaces outside.
        inner = text[start:end]
        start, end = start + len(inner) - len(inner.lstrip()), end - (len(inner) - len(inner.rstrip()))
        found.append((start, end))
        at = end
    return found


def highlight(text: str, quote: str | None) -> str:
    """The passage as escaped Markdown with the quoted span in bold (the whole passage escaped
    if the span cannot be found). A passage cut mid-sentence by chunking starts with '…'."""
    cut = re.match(r"[^\w“\"'(\[]+", text)
    if cut:
        text = "…" + text[cut.end():]
    out, at = [], 0
    for start, end in _spans(text, quote or ""):
        out += [escape_markdown(text[at:start]), "**", escape_markdown(text[start:end]), "**"]
        at = end
    out.append(escape_markdown(text[at:]))
    return "".join(out)


def source_heading(citation: dict[str, Any]) -> str:
    """"[1] Title · kind · p. 3" as escaped Markdown with the number and title in bold."""
    bits = [escape_markdown(str(citation.get("kind") or "").replace("-", " "))]
    if citation.get("page"):
        bits.append(f"p\\. {int(citation['page'])}")
    title = escape_markdown(citation.get("title") or citation.get("doc_id") or "Untitled")
    return f"**\\[{int(citation.get('n') or 0)}\\] {title}** · " + " · ".join(b for b in bits if b)


SOURCES_PAGE = "sources"  # the Sources page's url_path (tutor/ui/app.py)
_MARKER = re.compile(r"\\\[(\d{1,3})\\\]")  # "[n]" as escape_markdown writes it


def source_link(citation: dict[str, Any]) -> str:
    """A relative link that opens the cited document on the Sources page at the cited passage
    (relative, so it works under any base URL; Streamlit opens it in a new tab)."""
    query = {"doc": citation.get("doc_id") or ""}
    if citation.get("passage_id"):
        query["passage"] = citation["passage_id"]
    return f"{SOURCES_PAGE}?{urlencode(query)}"


def link_citations(escaped: str, citations: Iterable[dict[str, Any]]) -> str:
    """Escaped reply text whose ``[n]`` markers of cited passages are links to those passages;
    a marker no citation backs stays plain text."""
    by_n = {int(c["n"]): c for c in citations if c.get("n") and c.get("doc_id")}

    def link(match: re.Match) -> str:
        citation = by_n.get(int(match.group(1)))
        return f"[{match.group(0)}]({source_link(citation)})" if citation else match.group(0)

    return _MARKER.sub(link, escaped)


def move_caption(turn: dict[str, Any]) -> str:
    """The subtle line under a reply: the move's label and, for a model, its name."""
    label = (turn.get("move") or {}).get("label") or ""
    mode = turn.get("mode") or ""
    parts = [label] if label else []
    if mode and mode != "offline":
        parts.append(mode)
    return " · ".join(parts)


def mode_banner(mode: str, fallback_enabled: bool = True) -> str:
    """The line naming who answers: the offline tutor or the model."""
    if not mode or mode == "offline":
        return f"{OFFLINE_BANNER}: replies are built from the course's own sources and lesson cards."
    tail = " If it fails, the offline course-materials tutor answers instead." if fallback_enabled else ""
    return f"Model: {mode}, grounded in the course sources and checked before you see it.{tail}"

"""The one citation pattern: a reply points to passage n as ``[n]``.

>>> cited_numbers("See [2] and [1], then [2] again.")
[1, 2]
"""

from __future__ import annotations

import re

CITE = re.compile(r"\[(\d+)\]")


def cited_numbers(text: str) -> list[int]:
    """The passage numbers a text cites, each once, in order."""
    return sorted({int(n) for n in CITE.findall(text)})

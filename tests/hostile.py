"""Hostile inputs shared by the tests and benchmarks/hostile_upload_benchmark.py."""

from __future__ import annotations

# The upload size limit the tests and the benchmark read with (the app's default, 20 MB).
LIMIT = 20 * 1024 * 1024


def alias_bomb(levels: int = 9, width: int = 9) -> bytes:
    """Front matter whose aliases expand to width**levels strings (9**9: 387 million) from under 700 bytes."""
    lines = ["---", "title: My essay", f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * width)}]")
    lines += ["---", "Stalin won because he controlled the party apparatus."]
    return "\n".join(lines).encode()

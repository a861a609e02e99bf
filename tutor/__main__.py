"""`python -m tutor` runs the `tutor` command (handy where the console script is not on PATH)."""

from tutor.cli import app

app(prog_name="tutor")

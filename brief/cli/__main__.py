"""`python -m brief.cli`: the same command line as the `brief` script."""

from brief.cli import run

run()

"""The one base class for failures a reader should see as a single line, never a traceback.

Each layer raises its own subclass (a store that cannot be reached, an unknown document, a
filter that matches nothing, a model that is missing); the CLI and the app catch `BriefError`
alone. Kept free of imports so that catching it costs nothing at start-up.
"""

from __future__ import annotations


class BriefError(Exception):
    """An expected failure; `str(exc)` is one line for the reader saying what to do."""

    #: The process exit code when a command ends on this error.
    exit_code = 1

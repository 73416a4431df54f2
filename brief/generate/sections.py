"""The shape of a one-page brief: its sections and how many items each may hold.

Writers propose items per section key; the report trims to these limits and the word budget.
"""

from __future__ import annotations

# (key, title, bulleted), in page order.
SECTIONS = [
    ("bottom_line", "Bottom line", False),
    ("key_points", "Key points", True),
    ("background", "Background", False),
    ("perspectives", "Perspectives", True),
    ("watch", "What to watch", True),
]
# (minimum, maximum) items per section; trimming for the word budget never goes below the minimum.
SECTION_LIMITS = {
    "bottom_line": (1, 3),
    "key_points": (3, 6),
    "background": (2, 3),
    "perspectives": (1, 4),
    "watch": (1, 3),
}
# Trim order when over budget: the least essential section first.
TRIM_ORDER = ["watch", "perspectives", "background", "key_points", "bottom_line"]


def empty_sections() -> dict[str, list]:
    """A section map with nothing in it."""
    return {key: [] for key, _, _ in SECTIONS}

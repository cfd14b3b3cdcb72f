"""Excel helpers every export shares (no Django)."""

from __future__ import annotations

import re


def sheet_name(name: str) -> str:
    """A name as Excel accepts it for a worksheet: none of []:*?/\\, no apostrophe at
    either end, at most 31 UTF-16 units (xlsxwriter raises otherwise)."""
    name = re.sub(r"[\[\]:*?/\\]", "_", name)
    while len(name.encode("utf-16-le")) > 62:
        name = name[:-1]
    return name.strip("'") or "sheet"

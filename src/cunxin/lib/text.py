"""Characters that change how text displays without being part of it (no Django import).

A name carrying a right-to-left override (U+202E) shows its characters reversed; a
zero-width space or joiner makes two names that look the same compare different. Neither
belongs in a bank's names: the data pool's standardize step deletes them (`INVISIBLE`, in
SQL: `cunxin.datapool.sqlfuncs.clean_name`, keeping the raw value in the provenance), and
so does the app for names typed into its forms (`strip_invisible`).
"""

from __future__ import annotations

# Bidi embeddings, overrides, isolates and marks; zero-width space, joiners and word
# joiner; invisible operators; the byte-order mark; the soft hyphen; the Mongolian vowel
# separator (all of Unicode category Cf that text in this bank may meet).
INVISIBLE = (
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_DELETE = dict.fromkeys(map(ord, INVISIBLE))


def strip_invisible(text: str) -> str:
    """`text` without the characters of `INVISIBLE`."""
    return text.translate(_DELETE)


def clean_typed_name(text: str) -> str:
    """A name as typed into a form: invisible characters removed, then trimmed."""
    return strip_invisible(text).strip()

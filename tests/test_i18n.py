"""The Simplified Chinese catalogue: complete, compiled, used, and loadable by templates.

The .po is read with a small parser (no extra dependency); the compiled .mo is loaded
with the standard library's `gettext`, exactly as Django reads it.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "cunxin"
MESSAGES = SRC / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = MESSAGES / "django.po"
MO = MESSAGES / "django.mo"
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sd]")


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file (header included, msgid ""). Enough of the format for
    what makemessages writes: flags, msgctxt, plurals, multi-line strings."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None
    seen_id = False

    def finish() -> None:
        nonlocal entry, seen_id, target
        if seen_id:
            entries.append(entry)
        entry, seen_id, target = Entry(), False, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert target is not None, f"continuation without a keyword: {raw!r}"
            append(entry, target, ast.literal_eval(line))
            continue
        keyword, _, value = line.partition(" ")
        if keyword == "msgid" and seen_id and entry.msgstr:
            finish()  # entries not separated by a blank line
        match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if match:
            target = ("msgstr", int(match.group(1)))
        elif keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
            target = (keyword, 0)
            seen_id = seen_id or keyword == "msgid"
        else:
            raise AssertionError(f"unexpected line in {path.name}: {raw!r}")
        set_value(entry, target, ast.literal_eval(value))
    finish()
    return entries


def set_value(entry: Entry, target: tuple[str, int], value: str) -> None:
    name, index = target
    if name == "msgstr":
        entry.msgstr[index] = value
    else:
        setattr(entry, name, value)


def append(entry: Entry, target: tuple[str, int], value: str) -> None:
    name, index = target
    if name == "msgstr":
        entry.msgstr[index] += value
    else:
        setattr(entry, name, (getattr(entry, name) or "") + value)


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO.exists(), f"{PO} is missing: run makemessages (docs/operations.md, Translations)"
    return [e for e in parse_po(PO) if e.msgid and not e.obsolete]


@pytest.fixture(scope="module")
def header() -> str:
    return next(e for e in parse_po(PO) if e.msgid == "").msgstr[0]


def label(e: Entry) -> str:
    return f"{e.msgctxt}|{e.msgid}" if e.msgctxt else e.msgid


def test_it_has_a_catalogue_with_messages(entries):
    assert len(entries) > 100


def test_it_translates_every_msgid(entries):
    untranslated = [label(e) for e in entries if not e.msgstr or not all(e.msgstr.values())]
    assert untranslated == []


def test_it_has_no_fuzzy_translations(entries):
    assert [label(e) for e in entries if "fuzzy" in e.flags] == []
    assert "fuzzy" not in next(e for e in parse_po(PO) if e.msgid == "").flags


def test_it_declares_the_language_charset_and_one_plural_form(header):
    assert "Language: zh_Hans\n" in header
    assert "charset=UTF-8" in header
    assert "Plural-Forms: nplurals=1; plural=0;" in header


def test_it_keeps_the_placeholders_of_every_msgid(entries):
    wrong = []
    for e in entries:
        wanted = sorted(PLACEHOLDER.findall(e.msgid))
        for text in e.msgstr.values():
            if sorted(PLACEHOLDER.findall(text)) != wanted:
                wrong.append((label(e), text))
    assert wrong == []


def test_it_has_one_plural_form_for_each_plural_msgid(entries):
    assert [label(e) for e in entries if e.msgid_plural and set(e.msgstr) != {0}] == []


def test_it_has_a_compiled_catalogue_in_sync_with_the_po(entries):
    assert MO.exists(), f"{MO} is missing: run compilemessages"
    with MO.open("rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = []
    for e in entries:
        if e.msgid_plural:
            got = (
                mo.npgettext(e.msgctxt, e.msgid, e.msgid_plural, 1)
                if e.msgctxt
                else mo.ngettext(e.msgid, e.msgid_plural, 1)
            )
        else:
            got = mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt else mo.gettext(e.msgid)
        if got != e.msgstr[0]:
            stale.append((label(e), e.msgstr[0], got))
    assert stale == [], "django.mo is older than django.po: run compilemessages"


@pytest.mark.django_db
def test_it_shows_the_login_page_in_chinese(client):
    response = client.get("/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "登录" in page
    assert "Sign in" not in page


def test_it_loads_i18n_in_every_template_that_translates():
    uses = re.compile(r"{%-?\s*(translate|trans|blocktranslate|blocktrans)\b")
    loads = re.compile(r"{%-?\s*load\s+[^%]*\bi18n\b")
    templates = sorted(SRC.glob("**/templates/**/*.html"))
    assert templates, f"no templates under {SRC}"
    missing = [
        str(t.relative_to(SRC))
        for t in templates
        if uses.search(text := t.read_text(encoding="utf-8")) and not loads.search(text)
    ]
    assert missing == []


# One word per thing in the nav, the titles and the README (issue 11: 授信决定 and 授信决策,
# 信用评定 and 信用村评定 named the same pages).
GLOSSARY = {"授信决策": "授信决定", "信用村评定": "信用评定"}


def test_one_word_per_thing_in_the_catalogue_and_the_readme(entries):
    texts = [s for e in entries if not e.obsolete for s in e.msgstr.values()]
    readme = (SRC.parent.parent / "README.md").read_text(encoding="utf-8")
    for chosen, other in GLOSSARY.items():
        assert not [t for t in texts if other in t], other
        assert other not in readme, other
        assert any(chosen in t for t in texts), chosen
    by_id = {e.msgid: e.msgstr.get(0) for e in entries if not e.obsolete and not e.msgctxt}
    assert by_id["Credit decisions"] == by_id["Credit decision"] == "授信决策"
    assert by_id["Credit ratings"] == by_id["Credit village ratings"] == "信用村评定"

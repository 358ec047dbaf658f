"""The English catalogue translates every user-facing string, and the committed .mo matches the .po."""

import ast
import gettext
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: {"msgid", "msgid_plural", "msgstr": [...]}; enough of the format for ours."""
    entries, current, key = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if current is not None:
                entries.append(current)
            current, key = None, None
            continue
        if line.startswith("#"):
            continue
        current = current or {"msgid": "", "msgid_plural": None, "msgstr": {}}
        if line.startswith('"'):
            value = ast.literal_eval(line)
            if key[0] == "msgstr":
                current["msgstr"][key[1]] += value
            else:
                current[key[0]] += value
            continue
        word, _, rest = line.partition(" ")
        value = ast.literal_eval(rest)
        if word.startswith("msgstr"):
            index = int(word[7:-1]) if "[" in word else 0
            key = ("msgstr", index)
            current["msgstr"][index] = value
        else:
            key = (word, None)
            current[word] = value
    return [e for e in entries if e["msgid"]]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_catalogue_exists_with_its_compiled_file(language):
    assert (LOCALE / language / "LC_MESSAGES" / "django.po").is_file()
    assert (LOCALE / language / "LC_MESSAGES" / "django.mo").is_file()


def test_english_catalogue_translates_every_string():
    entries = read_po(LOCALE / "en" / "LC_MESSAGES" / "django.po")

    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]

    assert len(entries) > 400
    assert untranslated == []


def test_committed_english_mo_is_compiled_from_the_po():
    entries = read_po(LOCALE / "en" / "LC_MESSAGES" / "django.po")
    with open(LOCALE / "en" / "LC_MESSAGES" / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    stale = [
        e["msgid"] for e in entries if e["msgid_plural"] is None and compiled.gettext(e["msgid"]) != e["msgstr"][0]
    ]

    assert stale == [], "run `python manage.py compilemessages` and commit the .mo files"

"""Language switch without JavaScript, and the English translation."""

import ast
import gettext
from pathlib import Path

import pytest
from django.urls import reverse

import bieb

pytestmark = pytest.mark.django_db


def test_language_switch_posts_to_set_language_and_the_page_comes_back_in_english(client):
    # given the form the header renders
    html = client.get(reverse("portal:privacy")).content.decode()
    assert f'action="{reverse("set_language")}" method="post"' in html
    assert 'name="next" value="/privacy"' in html
    assert 'name="language" value="en"' in html

    # when the visitor presses "English" (a plain POST, no JavaScript)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/privacy"})

    # then they land on the same page, now in English
    assert response.status_code == 302 and response["Location"] == "/privacy"
    html = client.get("/privacy").content.decode()
    assert '<html lang="en"' in html
    assert "Privacy statement" in html
    assert "Privacyverklaring" not in html
    assert 'name="language" value="nl"' in html  # and the way back

    # and back to Dutch
    client.post(reverse("set_language"), {"language": "nl", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="nl"' in html and "Welkom bij de Bibliotheek" in html


def test_english_home_page_is_fully_translated(client):
    client.cookies["django_language"] = "en"

    html = client.get(reverse("portal:home")).content.decode()

    assert "Welcome to the Library" in html
    assert "Find your library" in html
    assert "for everyone, wherever you live" in html


def po_entries(text: str) -> list[dict]:
    """A small .po reader: msgid, every msgstr (plural forms too) and the flags of each entry."""
    entries = []
    for block in text.strip().split("\n\n"):
        entry: dict = {"flags": "", "msgid": "", "msgstr": []}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("msgid "):
                field = "msgid"
                entry["msgid"] = line[7:-1]
            elif line.startswith("msgctxt "):
                entry["context"] = True
            elif line.startswith("msgid_plural "):
                entry["plural"] = True
                field = "plural"
            elif line.startswith("msgstr"):
                field = "msgstr"
                entry["msgstr"].append(line.split(" ", 1)[1][1:-1])
            elif line.startswith('"') and field == "msgid":
                entry["msgid"] += line[1:-1]
            elif line.startswith('"') and field == "msgstr":
                entry["msgstr"][-1] += line[1:-1]
        if entry["msgid"] and not entry.get("obsolete"):
            entries.append(entry)
    return entries


def test_every_message_in_the_english_catalogue_is_translated_and_compiled():
    folder = Path(bieb.__file__).parent / "locale" / "en" / "LC_MESSAGES"
    entries = po_entries((folder / "django.po").read_text(encoding="utf-8"))

    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert len(entries) > 100
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"

    # the compiled catalogue says the same (compilemessages was run after the last edit)
    with (folder / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        e["msgid"]
        for e in entries
        if not e.get("plural")
        and not e.get("context")
        and compiled.gettext(ast.literal_eval(f'"{e["msgid"]}"'))
        != ast.literal_eval(f'"{e["msgstr"][0]}"')
    ]
    assert not stale, f"django.mo is out of date for: {stale[:10]}"

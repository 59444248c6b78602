import subprocess
from pathlib import Path

from django.conf import settings
from django.test import override_settings
from django.utils import translation

PO = Path(settings.BASE_DIR) / "locale" / "lv" / "LC_MESSAGES" / "django.po"


def test_every_latvian_entry_is_translated_and_not_fuzzy():
    stats = subprocess.run(
        ["msgfmt", "--statistics", "--check-format", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    assert "untranslated" not in stats and "fuzzy" not in stats, stats


@override_settings(LANGUAGE_CODE="lv")
def test_latvian_is_the_default_and_english_the_second_language():
    assert [code for code, _name in settings.LANGUAGES] == ["lv", "en"]
    with translation.override("lv"):
        assert translation.gettext("Pupils") == "Izglītojamie"
    with translation.override("en"):
        assert translation.gettext("Pupils") == "Pupils"

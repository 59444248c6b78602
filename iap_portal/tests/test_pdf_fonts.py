"""The print stylesheet's fonts are found by a relative URL that collectstatic can follow."""

import io

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.management import call_command
from pypdf import PdfReader
from weasyprint import HTML

from iap_portal.pdf import _stylesheet


def test_pdfs_embed_the_stylesheets_font():
    css, font_config = _stylesheet()
    pdf = HTML(string="<p>Ā ē ī ū š ž</p>").write_pdf(stylesheets=[css], font_config=font_config)
    fonts = {
        str(font.get_object()["/BaseFont"]).split("+")[-1]
        for page in PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts == {"IAP-Sans"}


def test_collectstatic_follows_the_print_stylesheets_font_urls(settings, tmp_path):
    """With production's manifest storage, a url() to a missing file fails collectstatic
    (it did: print.css named fonts beside it while they live in fonts/)."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    storage = ManifestStaticFilesStorage(location=tmp_path)
    collected = (tmp_path / storage.stored_name("css/print.css")).read_text(encoding="utf-8")
    assert storage.stored_name("fonts/DejaVuSans.ttf") in collected

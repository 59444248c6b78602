"""Receipts are normalised on the way in: a safe name, images written anew, active PDFs
refused."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from compensations.receipts import check_receipts
from compensations.tests.factories import draft_claim, pdf_bytes, png_bytes, receipt


def pdf_with(extra):
    """A one-page PDF whose catalogue gets ``extra`` (name -> pypdf object)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    for key, value in extra(writer).items():
        writer._root_object[NameObject(key)] = value
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def javascript(writer):
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)"),
        }
    )
    return {"/OpenAction": writer._add_object(action)}


def launch(writer):
    action = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")}
    )
    return {"/OpenAction": writer._add_object(action)}


def embedded_file(writer):
    writer.add_attachment("invoice.exe", b"MZ\x90\x00")
    return {}


def xfa(writer):
    form = DictionaryObject({NameObject("/XFA"): TextStringObject("<xdp/>")})
    return {"/AcroForm": writer._add_object(form)}


@pytest.mark.parametrize("extra", [javascript, launch, embedded_file, xfa])
def test_a_pdf_that_acts_or_carries_files_is_refused(extra):
    with pytest.raises(ValidationError) as caught:
        check_receipts([SimpleUploadedFile("kvīts.pdf", pdf_with(extra))])
    assert "kvīts.pdf" in caught.value.messages[0]


@pytest.mark.parametrize(
    "content", [b"%PDF-1.7\n garbage", b"%PDF-1.4\n" + b"\x00" * 500, pdf_bytes()[:200]]
)
def test_a_pdf_must_parse(content):
    with pytest.raises(ValidationError):
        check_receipts([SimpleUploadedFile("x.pdf", content)])


def test_a_plain_pdf_is_kept_as_it_is():
    content = pdf_bytes()
    [checked] = check_receipts([SimpleUploadedFile("x.pdf", content)])
    assert checked.content == content and checked.extension == "pdf"


def test_a_png_html_polyglot_becomes_a_plain_png():
    polyglot = png_bytes() + b"<html><script>alert(document.cookie)</script></html>"
    [checked] = check_receipts([SimpleUploadedFile("x.png", polyglot)])
    assert b"<script" not in checked.content
    assert Image.open(io.BytesIO(checked.content)).format == "PNG"


def test_a_photo_loses_its_metadata():
    image = Image.new("RGB", (16, 16), "white")
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x8825] = {2: (56.0, 57.0, 0.0)}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    assert b"Camera maker" in buffer.getvalue()
    [checked] = check_receipts([SimpleUploadedFile("foto.jpg", buffer.getvalue())])
    assert b"Camera maker" not in checked.content
    assert not Image.open(io.BytesIO(checked.content)).getexif()


def test_a_decompression_bomb_is_refused(settings):
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "PNG")  # small file, 400 million pixels
    with pytest.raises(ValidationError):
        check_receipts([SimpleUploadedFile("x.png", buffer.getvalue())])


def test_the_uploaders_file_name_is_not_kept(cast, login):
    """``a"; filename=evil.html; x=".png`` was stored as ``evil.html``, and ``?download=1``
    saved an HTML file."""
    from plans.models import PlanStatus
    from plans.tests.factories import ready_plan

    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
    )
    claim = draft_claim(plan=plan, by=cast.class_teacher, receipts=[receipt("evil.html")])
    stored = claim.receipts.get()
    assert stored.original_name == f"{claim.code}-1.png"
    response = login(cast.class_teacher).get(
        reverse("receipt_view", args=[stored.public_id]), {"download": "1"}
    )
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and ".html" not in disposition
    assert disposition.endswith(f'filename="{claim.code}-1.png"')

"""Receipt uploads: recognised by content, never by name, and normalised on the way in.

An image is decoded and written anew with Pillow (no metadata, nothing appended after the
image: a PNG+HTML polyglot becomes a plain PNG). A PDF must parse, and is refused when it
carries JavaScript, launch actions, embedded files or an XFA form (pypdf). The stored file
is served under a safe name: the claim's code, a number and the detected type's extension.
"""

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from .models import Receipt

EXTENSIONS = {Receipt.Kind.PDF: "pdf", Receipt.Kind.PNG: "png", Receipt.Kind.JPEG: "jpg"}
# Names that make a PDF do something when opened, or carry other files or forms.
ACTIVE_PDF_NAMES = {
    "/JS",
    "/JavaScript",
    "/Launch",
    "/EmbeddedFile",
    "/EmbeddedFiles",
    "/XFA",
    "/RichMedia",
    "/SubmitForm",
    "/ImportData",
}
PDF_OBJECTS_LIMIT = 100_000

SIGNATURES = [
    (b"%PDF-", Receipt.Kind.PDF),
    (b"\x89PNG\r\n\x1a\n", Receipt.Kind.PNG),
    (b"\xff\xd8\xff", Receipt.Kind.JPEG),
]


def receipt_kind(uploaded):
    """The receipt's content type, or a ValidationError that names the file and the problem."""
    name = uploaded.name
    if uploaded.size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name})
    limit = settings.IAP_RECEIPT_MAX_BYTES
    if uploaded.size > limit:
        raise ValidationError(
            _("“%(name)s” is larger than %(mb)d MB.") % {"name": name, "mb": limit // 2**20}
        )
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(0)
    kind = next((k for signature, k in SIGNATURES if head.startswith(signature)), None)
    if kind is None:
        raise ValidationError(
            _("“%(name)s” is not a PDF, JPEG or PNG file (whatever its name says).")
            % {"name": name}
        )
    return kind


@dataclass
class CheckedReceipt:
    content: bytes  # what is stored: the image written anew, or the checked PDF
    kind: str
    size: int

    @property
    def extension(self):
        return EXTENSIONS[self.kind]


def _reencoded_image(data, kind, name):
    """The image decoded and written anew: pixels only, turned as the camera meant."""
    damaged = ValidationError(_("“%(name)s” is a damaged image.") % {"name": name})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                out = io.BytesIO()
                if kind == Receipt.Kind.JPEG:
                    image.convert("RGB").save(out, format="JPEG", quality=90)
                else:
                    if image.mode not in {"1", "L", "LA", "P", "RGB", "RGBA"}:
                        image = image.convert("RGBA")
                    image.save(out, format="PNG", optimize=True)
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise damaged from None
    return out.getvalue()


def _active_pdf_content(reader) -> bool:
    """Whether any object reachable from the trailer names an active feature."""
    seen, stack, visited = set(), [reader.trailer], 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        visited += 1
        if visited > PDF_OBJECTS_LIMIT:
            return True  # too many objects to check: refused rather than trusted
        if isinstance(node, DictionaryObject):
            for name, value in node.items():
                if name in ACTIVE_PDF_NAMES:
                    return True
                if name == "/S" and isinstance(value, NameObject) and value in ACTIVE_PDF_NAMES:
                    return True
                if name != "/Parent":
                    stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return False


def _checked_pdf(data, name):
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValidationError(
                _("“%(name)s” is a password-protected PDF: attach it without a password.")
                % {"name": name}
            )
        pages = len(reader.pages)
        active = _active_pdf_content(reader)
    except ValidationError:
        raise
    except Exception:  # pypdf raises many kinds on a broken file  # noqa: BLE001
        raise ValidationError(_("“%(name)s” is a damaged PDF.") % {"name": name}) from None
    if not pages:
        raise ValidationError(_("“%(name)s” is a PDF without pages.") % {"name": name})
    if active:
        raise ValidationError(
            _(
                "“%(name)s” is a PDF with scripts, attachments or forms: print it to PDF or "
                "scan it, and attach that."
            )
            % {"name": name}
        )
    return data


def normalise(uploaded, kind) -> CheckedReceipt:
    uploaded.seek(0)
    data = uploaded.read()
    uploaded.seek(0)
    if kind == Receipt.Kind.PDF:
        content = _checked_pdf(data, uploaded.name)
    else:
        content = _reencoded_image(data, kind, uploaded.name)
    return CheckedReceipt(content=content, kind=kind, size=len(content))


def check_receipts(files, *, already=0):
    """Check and normalise every file before any is stored; return [CheckedReceipt] or raise
    with all problems."""
    problems, checked = [], []
    limit = settings.IAP_RECEIPTS_PER_CLAIM
    if already + len(files) > limit:
        problems.append(
            ngettext(
                "A claim has at most %(max)d receipt.",
                "A claim has at most %(max)d receipts.",
                limit,
            )
            % {"max": limit}
        )
    for uploaded in files:
        try:
            checked.append(normalise(uploaded, receipt_kind(uploaded)))
        except ValidationError as error:
            problems.extend(error.messages)
    if problems:
        raise ValidationError(problems)
    return checked

"""Receipt uploads: recognised by content, never by name."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, UnidentifiedImageError

from .models import Receipt

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
    if kind != Receipt.Kind.PDF:
        try:
            with Image.open(uploaded) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ValidationError(_("“%(name)s” is a damaged image.") % {"name": name}) from None
        finally:
            uploaded.seek(0)
    return kind


def check_receipts(files, *, already=0):
    """Check every file before any is stored; return [(file, kind)] or raise with all problems."""
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
            checked.append((uploaded, receipt_kind(uploaded)))
        except ValidationError as error:
            problems.extend(error.messages)
    if problems:
        raise ValidationError(problems)
    return checked

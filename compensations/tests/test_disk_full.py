"""The private media disk fills while a claim's receipts are stored (issue 22): the teacher is
told so, the claim is not saved, and no receipt file is left."""

import errno
import os

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from compensations.models import CompensationClaim, Receipt
from compensations.tests.factories import claimable_plan, pdf_bytes, png_bytes
from iap_portal.storage import WholeFileStorage

NO_ROOM = "Serverī vairs nav vietas, kur glabāt čekus"


def file_claim(client, measure, receipts):
    today = timezone.localdate()
    return client.post(
        reverse("claim_create", args=[measure.pk]),
        {
            "month": today.strftime("%Y-%m"),
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "50",
            "lines-0-date": today.isoformat(),
            "lines-0-description": "Biļetes",
            "lines-0-amount": "12.50",
            "receipts": receipts,
            "submit": "1",
        },
    )


def stored_files(root):
    return [name for _dir, _subdirs, names in os.walk(root) for name in names if name != ".filler"]


def test_a_full_disk_refuses_the_claim_whole(cast, login, private_media, monkeypatch):
    measure = claimable_plan(cast).measures.get(measure_type="compensation")
    real_save = WholeFileStorage._save
    saved = []

    def second_finds_no_room(self, name, content):
        if saved:
            raise OSError(errno.ENOSPC, "No space left on device")
        saved.append(name)
        return real_save(self, name, content)

    monkeypatch.setattr(WholeFileStorage, "_save", second_finds_no_room)
    response = file_claim(
        login(cast.class_teacher),
        measure,
        [SimpleUploadedFile("a.png", png_bytes()), SimpleUploadedFile("b.pdf", pdf_bytes())],
    )
    assert response.status_code == 200 and NO_ROOM in response.content.decode()
    assert len(saved) == 1  # the first receipt had been stored …
    assert not CompensationClaim.objects.exists() and not Receipt.objects.exists()
    assert stored_files(private_media) == []  # … and is removed with the claim


def test_a_really_full_disk_refuses_the_claim_whole(cast, login, full_disk):
    measure = claimable_plan(cast).measures.get(measure_type="compensation")
    full_disk(room=16384)
    small = png_bytes()
    large = pdf_bytes() + os.urandom(100_000)  # a scan: more than the room left
    response = file_claim(
        login(cast.class_teacher),
        measure,
        [SimpleUploadedFile("a.png", small), SimpleUploadedFile("b.pdf", large)],
    )
    assert response.status_code == 200 and NO_ROOM in response.content.decode()
    assert not CompensationClaim.objects.exists() and not Receipt.objects.exists()
    assert stored_files(full_disk.root) == []

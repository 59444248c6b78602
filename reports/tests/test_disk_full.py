"""The private media disk fills while a bundle is written (issue 22): the coordinator is told
so, no part of a file is kept, the bundle is not marked done."""

import errno
import os

from django.urls import reverse

from iap_portal.storage import WholeFileStorage
from reports.models import PlanBundle
from reports.tasks import build_bundle
from reports.tests.test_worker_crash import plans
from students.models import Semester

NO_ROOM = "Serverī vairs nav vietas, kur glabāt datni"


def bundle_of(cast):
    bundle = PlanBundle.objects.create(
        school=cast.school, semester=Semester.objects.current(), requested_by=cast.coordinator
    )
    build_bundle.enqueue(bundle_id=str(bundle.public_id))  # runs at once in tests
    bundle.refresh_from_db()
    return bundle


def test_a_full_disk_fails_the_bundle_with_a_clear_message_and_no_file(
    cast, login, private_media, monkeypatch
):
    plans(cast, 2)
    real_save = WholeFileStorage._save

    def pdf_finds_no_room(self, name, content):
        if name.endswith(".pdf"):  # the ZIP was stored; the PDF finds the disk full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, name, content)

    monkeypatch.setattr(WholeFileStorage, "_save", pdf_finds_no_room)
    bundle = bundle_of(cast)
    assert bundle.status == PlanBundle.Status.FAILED and not bundle.pdf and not bundle.zip
    assert bundle.error.startswith("OSError: [Errno 28]")
    assert os.listdir(private_media / "bundles") == []  # the ZIP went too
    page = login(cast.coordinator).get(reverse("bundle_detail", args=[bundle.public_id]))
    assert NO_ROOM in page.content.decode()


def test_a_really_full_disk_fails_the_bundle_and_keeps_nothing(cast, login, full_disk):
    plans(cast, 2)
    full_disk(room=4096)
    bundle = bundle_of(cast)
    assert bundle.status == PlanBundle.Status.FAILED and "[Errno 28]" in bundle.error
    assert os.listdir(full_disk.root / "bundles") == []
    page = login(cast.coordinator).get(reverse("bundle_detail", args=[bundle.public_id]))
    assert NO_ROOM in page.content.decode()
    # Once there is room, a new bundle is written.
    (full_disk.root.parent / ".filler").unlink()
    assert bundle_of(cast).status == PlanBundle.Status.DONE

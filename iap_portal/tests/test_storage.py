"""Private files appear whole or not at all (iap_portal.storage.WholeFileStorage)."""

import errno
import os

import pytest
from django.core.files.base import ContentFile

from iap_portal.storage import private_storage


def test_a_file_is_written_whole_under_its_name(private_media):
    name = private_storage().save("bundles/a.pdf", ContentFile(b"%PDF-1.7 whole"))
    assert name == "bundles/a.pdf"
    assert (private_media / name).read_bytes() == b"%PDF-1.7 whole"
    assert os.listdir(private_media / "bundles") == ["a.pdf"]  # no temporary file left
    assert (private_media / name).stat().st_mode & 0o777 == 0o600


def test_a_second_file_of_the_same_name_gets_another_and_the_first_is_kept(private_media):
    storage = private_storage()
    storage.save("bundles/a.pdf", ContentFile(b"first"))
    second = storage.save("bundles/a.pdf", ContentFile(b"second"))
    assert second != "bundles/a.pdf" and (private_media / second).read_bytes() == b"second"
    assert (private_media / "bundles/a.pdf").read_bytes() == b"first"


def test_a_full_disk_leaves_nothing_behind(private_media, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("iap_portal.storage.os.fsync", no_space)
    with pytest.raises(OSError, match="No space left"):
        private_storage().save("bundles/a.pdf", ContentFile(b"x" * 100_000))
    assert os.listdir(private_media / "bundles") == []


def test_a_real_full_disk_leaves_nothing_behind(full_disk):
    full_disk(room=8192)
    with pytest.raises(OSError) as raised:
        private_storage().save("bundles/a.pdf", ContentFile(os.urandom(200_000)))
    assert raised.value.errno == errno.ENOSPC
    assert os.listdir(full_disk.root / "bundles") == []

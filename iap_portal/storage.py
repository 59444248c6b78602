"""Private files (receipts, bundles, exports) live under the private media root
(settings.MEDIA_ROOT), which no URL serves; they leave only through permission-checked views."""

import contextlib
import os
import tempfile

from django.core.files.storage import FileSystemStorage


class WholeFileStorage(FileSystemStorage):
    """A file appears under its name whole or not at all: it is written to a hidden temporary
    file beside it, flushed to the disk, then linked to its name (atomic). A write that fails
    (a full disk, a killed worker's next run) leaves no part of itself under a real name; the
    temporary file is removed, or, after a crash, ``purge_files`` deletes it a day later."""

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        if self.directory_permissions_mode is not None:
            # Django's own way: the mode through the umask, so that every new parent gets it.
            old_umask = os.umask(0o777 & ~self.directory_permissions_mode)
            try:
                os.makedirs(directory, self.directory_permissions_mode, exist_ok=True)
            finally:
                os.umask(old_umask)
        else:
            os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in content.chunks():
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(temporary, self.file_permissions_mode)
            while True:
                try:
                    os.link(temporary, full_path)  # fails rather than replace another file
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
                    full_path = self.path(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        return str(name).replace("\\", "/")


_private_storage = WholeFileStorage(file_permissions_mode=0o600, directory_permissions_mode=0o700)


def private_storage():
    return _private_storage

"""Private files (receipts, bundles, exports) live under the private media root
(settings.MEDIA_ROOT), which no URL serves; they leave only through permission-checked views."""

from django.core.files.storage import FileSystemStorage

_private_storage = FileSystemStorage(file_permissions_mode=0o600, directory_permissions_mode=0o700)


def private_storage():
    return _private_storage

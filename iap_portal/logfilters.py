"""Filters for the log configuration (settings.LOGGING)."""

import logging

from django.core.exceptions import PermissionDenied


class PermissionDeniedOneLine(logging.Filter):
    """A refused request (403) is logged as its one line ("Forbidden (Permission denied):
    /path"), without the traceback of the PermissionDenied that refused it: a refusal is the
    access rules working, and tracebacks would bury the errors worth reading."""

    def filter(self, record):
        exc_info = record.exc_info
        if exc_info and isinstance(exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True

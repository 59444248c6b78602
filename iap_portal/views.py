"""The error pages the project answers with itself (the root URLconf's handler500)."""

import sys
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse
from django.views.defaults import server_error as default_server_error


def server_error(request):
    """A database that cannot be reached is a friendly 503 ("try again"), not a 500.

    Nothing is lost: what could not be saved was not saved, and the browser keeps the form."""
    if is_unreachable_database(sys.exc_info()[1]):
        return unavailable_response()
    return default_server_error(request)


def is_unreachable_database(error) -> bool:
    """Django's own errors for a database it cannot reach, or the driver's where Django lets
    one through unwrapped (rows fetched in chunks, as a form's choices are, when PostgreSQL
    goes away mid-query: psycopg2's OperationalError itself)."""
    driver = connections["default"].Database
    kinds = (OperationalError, InterfaceError, driver.OperationalError, driver.InterfaceError)
    return isinstance(error, kinds)


def unavailable_response():
    page = Path(settings.BASE_DIR, "templates", "503.html").read_text(encoding="utf-8")
    response = HttpResponse(page, status=503)
    response["Retry-After"] = "30"
    return response

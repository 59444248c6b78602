"""What the log says about a request: a refusal (403) is one line, an error keeps its traceback."""

import logging
import sys

from django.urls import reverse

from iap_portal.logfilters import PermissionDeniedOneLine


def test_a_refused_request_is_logged_as_one_line(cast, login, caplog):
    caplog.set_level(logging.WARNING, logger="django.request")
    # The audit log is the coordinators' page: a class teacher is refused (PermissionDenied).
    response = login(cast.class_teacher).get(reverse("audit_log"))
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in records] == [
        f"Forbidden (Permission denied): {reverse('audit_log')}"
    ]
    assert records[0].exc_info is None
    assert "Traceback" not in caplog.text
    assert len(caplog.text.strip().splitlines()) == 1


def record_of(error):
    try:
        raise error
    except type(error):
        exc_info = sys.exc_info()
    return logging.LogRecord("django.request", logging.ERROR, __file__, 1, "x", (), exc_info)


def test_an_error_keeps_its_traceback():
    record = record_of(ValueError("broken"))
    assert PermissionDeniedOneLine().filter(record)
    assert record.exc_info is not None
    assert "Traceback" in logging.Formatter().format(record)

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


def consoles_reached(logger_name, level=logging.WARNING):
    """The console handlers a record of this logger is printed by."""
    record = logging.LogRecord(logger_name, level, __file__, 1, "x", (), None)
    logger, reached = logging.getLogger(logger_name), []
    while logger:
        reached += [
            h
            for h in logger.handlers
            if type(h) is logging.StreamHandler and level >= h.level and h.filter(record)
        ]
        logger = logger.parent if logger.propagate else None
    return reached


def test_a_django_line_is_printed_once_in_development(settings):
    settings.DEBUG = True  # Django's own console handler prints only then
    assert len(consoles_reached("django.request")) == 1
    assert len(consoles_reached("django.utils.autoreload", logging.INFO)) == 1

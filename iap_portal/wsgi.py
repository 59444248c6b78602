import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iap_portal.settings")
application = get_wsgi_application()


def freeze_startup_objects():
    """Load every view now (Django would on the first request), then move everything loaded so
    far — modules, URL patterns, settings, model metadata — out of the garbage collector's
    reach (Python's ``gc.freeze()``). Otherwise each full collection re-scans those many
    long-lived objects, in the middle of whichever request allocated a lot, which showed in the
    large exports' slowest responses (bench/README.md). With ``gunicorn --preload`` it also keeps
    the forked workers' memory shared."""
    from django.urls import get_resolver  # after get_wsgi_application() has set Django up

    get_resolver().url_patterns  # noqa: B018 - imports every view module
    gc.collect()
    gc.freeze()


freeze_startup_objects()

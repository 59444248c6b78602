from django.utils.cache import add_never_cache_headers

from . import audit


class LatvianByDefaultMiddleware:
    """Latvian unless the user chose otherwise with the language switch.

    Django would follow the browser's Accept-Language, but many school computers run an
    English browser; the programme's language is Latvian. The switch sets a cookie, which
    LocaleMiddleware still honours.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class NoStoreMiddleware:
    """Nothing shown to a signed-in user (pages, plan PDFs, archives, exports, bundles,
    receipts) is stored by the browser or a proxy: on a shared school computer the cache and
    the back button would keep a pupil's data after logout. Static files never get here
    (WhiteNoise answers them first) and keep their long cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or response.has_header(
            "Content-Disposition"
        ):
            add_never_cache_headers(response)
        return response


class PendingAuditMiddleware:
    """A POST that shows a pupil's page again (a form error) is a view of the pupil's data:
    the view's ``audit.record_view`` held it back until the answer was known."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        audit.record_pending(request, response)
        return response

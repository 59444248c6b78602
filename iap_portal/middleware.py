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


def unavailable_response():
    from pathlib import Path

    from django.conf import settings
    from django.http import HttpResponse

    page = Path(settings.BASE_DIR, "templates", "503.html").read_text(encoding="utf-8")
    response = HttpResponse(page, status=503)
    response["Retry-After"] = "30"
    return response

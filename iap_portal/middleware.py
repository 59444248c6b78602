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

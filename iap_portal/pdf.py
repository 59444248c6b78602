"""PDF documents with WeasyPrint: one print stylesheet, parsed once per process, and a URL
fetcher that reaches nothing but the app's own static files."""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from .i18n import localized

PRINT_CSS = "css/print.css"


def _static_roots():
    roots = [Path(d).resolve() for d in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


class StaticOnlyFetcher(URLFetcher):
    """Deny by default: only file:// URLs inside the app's static directories."""

    def __init__(self):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)

    def fetch(self, url, headers=None):
        if not url.startswith("file://"):
            raise ValueError(f"Blocked URL in a PDF: {url[:80]}")
        path = Path(url.removeprefix("file://").split("?")[0]).resolve()
        if not any(path.is_relative_to(root) for root in _static_roots()):
            raise ValueError(f"Blocked file in a PDF: {url[:80]}")
        return super().fetch(path.as_uri(), headers)


@lru_cache(maxsize=1)
def _stylesheet():
    """The print stylesheet and its fonts (``../fonts/``, relative to the stylesheet, so that
    ``collectstatic`` finds them too), parsed once per process."""
    font_config = FontConfiguration()
    css = CSS(
        filename=finders.find(PRINT_CSS),
        url_fetcher=StaticOnlyFetcher(),
        font_config=font_config,
    )
    return css, font_config


def render_pdf(template, context, request=None):
    # A task worker renders without a request, so without the context processors: the
    # programme's name must not depend on them.
    context = {
        "programme_name": localized(settings.IAP_PROGRAMME_NAME, settings.IAP_PROGRAMME_NAME_EN),
        "programme_code": settings.IAP_PROGRAMME_CODE,
        **context,
    }
    html = render_to_string(template, context, request=request)
    css, font_config = _stylesheet()
    document = HTML(
        string=html,
        base_url=Path(settings.BASE_DIR / "static").as_uri() + "/",
        url_fetcher=StaticOnlyFetcher(),
    )
    return document.write_pdf(stylesheets=[css], font_config=font_config)

"""Serve a page, its stylesheet and a plan PDF with the production settings, from the files
collectstatic wrote (run by scripts/check-production.sh; exits non-zero on any failure)."""

import io
import os
import re
import sys
from pathlib import Path

import django
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iap_portal.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from plans.models import SupportPlan  # noqa: E402


def check(condition, what):
    print(("ok    " if condition else "FAILED"), what)
    if not condition:
        sys.exit(1)


check(settings.IAP_ENV == "production" and not settings.DEBUG, "production settings")
client = Client(HTTP_HOST="iap.example.lv")
teacher = get_user_model().objects.get(username="audzinataja")
client.force_login(teacher)

home = client.get("/", secure=True)
page = home.content.decode()
check(home.status_code == 200, f"the home page: {home.status_code}")
check('lang="lv"' in page and "Izglītojamie" in page, "the page is in Latvian (compiled messages)")
css = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
check(css is not None, "the page links its stylesheet by its hashed, collected name")
style = client.get(css.group(1), secure=True)
check(
    style.status_code == 200, f"the stylesheet is served from the collected files: {css.group(1)}"
)
check("immutable" in style.get("Cache-Control", ""), "collected files are cached for good")

plan = SupportPlan.objects.filter(preparer=teacher).first()
check(plan is not None, "the demo teacher has a plan")
pdf = client.get(reverse("plan_pdf", args=[plan.public_id]), secure=True)
check(pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf", "the plan PDF")
fonts = {
    str(font.get_object()["/BaseFont"]).split("+")[-1]
    for page in PdfReader(io.BytesIO(pdf.content)).pages
    for font in page["/Resources"]["/Font"].values()
}
check(
    fonts <= {"IAP-Sans", "IAP-Sans-Bold"} and fonts,
    f"the PDF embeds the print stylesheet's font only: {sorted(fonts)}",
)
check(Path(settings.STATIC_ROOT, "staticfiles.json").exists(), "collectstatic wrote the manifest")

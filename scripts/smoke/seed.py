"""The smoke test's people and school: the test suite's cast (conftest.build_cast: a school
with a class teacher, a coordinator, a specialist, pupils, the seed catalogue), written into
the stack's database with the development settings, each with the smoke test's password.
A few seconds, where the demo school takes a minute; `make run` shows the demo school."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iap_portal.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from conftest import build_cast  # noqa: E402

build_cast()
for user in get_user_model().objects.all():
    user.set_password(os.environ["SMOKE_PASSWORD"])
    user.save(update_fields=["password"])
print(f"{get_user_model().objects.count()} users")

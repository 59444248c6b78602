"""The risk dropdown of the plan form groups the factors under their risk type."""

import re

from django.urls import reverse

from plans.models import RiskType
from plans.tests.factories import make_plan


def test_the_risk_dropdown_has_a_group_per_risk_type(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    client = login(cast.class_teacher)
    for url in (
        reverse("plan_update", args=[plan.pk]),
        reverse("plan_risk_row", args=[plan.pk]) + "?risks-TOTAL_FORMS=1",
    ):
        content = client.get(url).content.decode()
        select = re.search(r'<select name="risks-\d+-risk_factor".*?</select>', content, re.S)
        assert select, url
        groups = re.findall(r'<optgroup label="([^"]+)">', select.group(0))
        assert groups == [str(t) for t in RiskType.objects.order_by("number")]
        # Each factor sits under its own type.
        first_group = select.group(0).split("<optgroup")[1]
        factor = RiskType.objects.get(number=1).factors.filter(school=None, is_active=True).first()
        assert f">{factor.name}</option>" in first_group

"""IKVD sets the approval routes: per municipality, with a school's own route over it."""

import pytest
from django.urls import reverse

from iap_portal.actions import ActionRefused
from iap_portal.models import AuditEvent
from students import services
from students.models import ApprovalRoute, School
from students.tests.factories import SchoolFactory


def test_ikvd_sets_a_municipality_route_and_a_school_of_its_own(cast, login):
    municipality = cast.school.municipality
    vocational = SchoolFactory(municipality=municipality, name="Preiļu tehnikums")
    client = login(cast.agency)
    page = client.get(reverse("approval_route_edit", args=[municipality.pk])).content.decode()
    assert "Preiļu tehnikums" in page and cast.school.name in page
    response = client.post(
        reverse("approval_route_edit", args=[municipality.pk]),
        {
            "route": ApprovalRoute.MUNICIPALITY,
            f"school_{cast.school.pk}": "",
            f"school_{vocational.pk}": ApprovalRoute.AGENCY,
        },
    )
    assert response.status_code == 302
    municipality.refresh_from_db()
    assert municipality.approval_route == ApprovalRoute.MUNICIPALITY
    assert School.objects.get(pk=cast.school.pk).route == ApprovalRoute.MUNICIPALITY
    assert School.objects.get(pk=vocational.pk).route == ApprovalRoute.AGENCY
    # Each change is in the audit log; the other municipality's schools are untouched.
    details = list(
        AuditEvent.objects.filter(user=cast.agency, action="status").values_list(
            "detail", flat=True
        )
    )
    assert len(details) == 2, details
    assert any("Preiļu tehnikums" in d for d in details)
    assert School.objects.get(pk=cast.other_school.pk).route == ApprovalRoute.SCHOOL
    listing = client.get(reverse("approval_routes")).content.decode()
    assert municipality.name in listing


def test_a_route_that_is_not_one_is_refused_with_a_message(cast, login):
    municipality = cast.school.municipality
    response = login(cast.agency).post(
        reverse("approval_route_edit", args=[municipality.pk]), {"route": "everyone"}
    )
    assert response.status_code == 200 and response.context["form"].errors["route"]
    municipality.refresh_from_db()
    assert municipality.approval_route == ApprovalRoute.SCHOOL


def test_only_ikvd_sets_routes(cast):
    municipality = cast.school.municipality
    for user in (cast.municipality, cast.coordinator):
        with pytest.raises(ActionRefused):
            services.set_approval_routes(
                municipality=municipality,
                route=ApprovalRoute.MUNICIPALITY,
                school_routes={},
                by=user,
            )
    with pytest.raises(ActionRefused):  # a school of another municipality
        services.set_approval_routes(
            municipality=municipality,
            route=ApprovalRoute.SCHOOL,
            school_routes={cast.other_school: ApprovalRoute.AGENCY},
            by=cast.agency,
        )


def test_an_unknown_municipality_is_not_found(cast, login):
    assert login(cast.agency).get(reverse("approval_route_edit", args=[99999])).status_code == 404


@pytest.mark.parametrize("extra", [0, 10])
def test_the_routes_page_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    for _n in range(extra):
        SchoolFactory(approval_route=ApprovalRoute.AGENCY)  # each in a municipality of its own
    client = login(cast.agency)
    client.get(reverse("approval_routes"))  # the session is written once a minute at most
    # session, user, memberships; the municipalities with their schools and own routes counted
    with django_assert_num_queries(4):
        response = client.get(reverse("approval_routes"))
    assert len(response.context["municipalities"]) == 2 + extra

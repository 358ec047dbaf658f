"""Sending a referral through the API names a service the partner offers: not a suspended one
(``service_suspended``), an inactive one, or another organisation's."""

import datetime
import json

import pytest
from django.utils import timezone

from partners.models import Service
from referrals.models import Referral
from tests.partners.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def send(world, service):
    return world.client("advisor").post(
        "/api/v1/referrals/",
        data=json.dumps(
            {
                "project_holder": str(world.spare_holder.uuid),
                "to_organisation": world.partner.pk,
                "service": service.pk,
                "motive": "Projet de traiteur à structurer",
            }
        ),
        content_type="application/json",
    )


def test_a_suspended_service_is_refused_with_its_code_and_nothing_is_written(world):
    until = timezone.localdate() + datetime.timedelta(days=3)
    Service.objects.filter(pk=world.service.pk).update(suspended_until=until)
    count = Referral.objects.count()

    response = send(world, world.service)

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("service_suspended", "service")
    assert f"suspendu jusqu'au {until:%d/%m/%Y}" in body["detail"]
    assert Referral.objects.count() == count


def test_a_service_suspended_until_yesterday_is_accepted(world):
    Service.objects.filter(pk=world.service.pk).update(
        suspended_until=timezone.localdate() - datetime.timedelta(days=1)
    )

    response = send(world, world.service)

    assert response.status_code == 201
    assert Referral.objects.get(uuid=response.json()["uuid"]).service == world.service


@pytest.mark.parametrize("which", ["inactive", "another_organisation"])
def test_an_inactive_or_another_organisations_service_is_refused(world, which):
    if which == "inactive":
        service = ServiceFactory(organisation=world.partner, name="Ancien", is_active=False)
    else:
        service = ServiceFactory(organisation=world.unrelated, name="Microcrédit")
    count = Referral.objects.count()

    response = send(world, service)

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "service")
    assert "n'est pas proposé par BGE Champagne" in response.json()["detail"]
    assert Referral.objects.count() == count

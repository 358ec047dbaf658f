"""The Django admin is usable by a network administrator for every model."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from partners.models import Membership, Organisation
from tests.partners.factories import OrganisationFactory, UserFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("partners", "referrals", "messaging")


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "secret-pass")
    client.force_login(user)
    return client


def test_every_project_model_is_registered_in_the_admin():
    missing = [
        model.__name__
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        if model not in admin.site._registry and not model.__name__.endswith("GroupObjectPermission")
    ]
    assert missing == []


def test_every_changelist_and_change_page_opens(admin_client):
    referral = ReferralFactory(accepted=True)
    assert referral.pk
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            if model not in admin.site._registry:
                continue
            info = (model._meta.app_label, model._meta.model_name)
            response = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)))
            assert response.status_code == 200, info
            obj = model.objects.first()
            if obj is not None:
                response = admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
                assert response.status_code == 200, info


def test_creating_an_organisation_in_the_admin_creates_its_group(admin_client):
    response = admin_client.post(
        reverse("admin:partners_organisation_add"),
        {
            "name": "Initiative Aube",
            "kind": "creation",
            "sla_days": 10,
            "is_active": "on",
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    organisation = Organisation.objects.get(name="Initiative Aube")
    assert organisation.group.name == "Organisation · Initiative Aube"


def test_adding_a_member_in_the_admin_puts_them_in_the_group(admin_client):
    organisation = OrganisationFactory()
    user = UserFactory()

    response = admin_client.post(
        reverse("admin:partners_membership_add"),
        {"user": user.pk, "organisation": organisation.pk, "role": "member", "is_active": "on"},
    )

    assert response.status_code == 302
    membership = Membership.objects.get(user=user)
    assert membership.role == "admin"  # the first member of an organisation is its admin
    assert organisation.group in user.groups.all()


def test_the_admin_login_page_answers(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200

"""The Django admin is usable by a network administrator for every model."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from partners.models import Membership, Organisation, Service
from referrals import services
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, UserFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("partners", "referrals", "messaging")
# The tests below sign in with pytest-django's admin_client: a superuser, the network's administrator.


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
            "follow_up_days": 21,
            "is_active": "on",
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    organisation = Organisation.objects.get(name="Initiative Aube")
    assert organisation.group.name == f"Organisation {organisation.pk} · Initiative Aube"
    assert organisation.follow_up_days == 21


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


def test_a_person_is_read_only_in_the_admin_so_an_erased_person_stays_erased(admin_client):
    referral = ReferralFactory()
    holder = referral.project_holder
    services.project_holder_erase(holder=holder)

    response = admin_client.post(
        reverse("admin:referrals_projectholder_change", args=[holder.pk]),
        {"first_name": "Samia", "last_name": "Benali", "situation": "other", "stage": "idea"},
    )

    assert response.status_code == 403
    holder.refresh_from_db()
    assert (holder.first_name, holder.last_name) == ("", "")


def test_the_admin_erases_a_person_through_the_service(admin_client):
    referral = ReferralFactory()

    response = admin_client.post(
        reverse("admin:referrals_projectholder_changelist"),
        {"action": "erase", "_selected_action": [referral.project_holder.pk]},
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.project_holder.erased_at is not None and referral.status == "cancelled"


def test_a_service_saved_in_the_admin_goes_through_the_service_rules(admin_client):
    partner = OrganisationFactory(name="BGE Champagne")
    neighbourhood = NeighbourhoodFactory()

    response = admin_client.post(
        reverse("admin:partners_service_add"),
        {
            "organisation": partner.pk,
            "name": "Couveuse",
            "category": "activity_test",
            "neighbourhoods": [neighbourhood.pk],
            "is_active": "on",
        },
    )
    citeslab = OrganisationFactory(citeslab=True)
    refused = admin_client.post(
        reverse("admin:partners_service_add"), {"organisation": citeslab.pk, "name": "X", "category": "other"}
    )

    assert response.status_code == 302
    service = Service.objects.get(name="Couveuse")
    assert (service.organisation, list(service.neighbourhoods.all())) == (partner, [neighbourhood])
    assert refused.status_code == 200 and not Service.objects.filter(name="X").exists()  # not a partner: form error


def test_e_mail_preferences_are_the_users_own_not_the_admins(admin_client):
    assert admin_client.get(reverse("admin:messaging_emailoptout_add")).status_code == 403

"""What each side sees of a referral in the API: ``ReferralSerializer``'s output written out key by
key, for the sender, the receiver, an observer (the coordination) and after a consent withdrawal.
The person's identity, contact and project summary, the free texts and the ``previous`` link are
the fields a side may not see (``lifecycle.Side``); everything else is the pipeline's facts."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.request import Request

from referrals import services
from referrals.access import holder_access, side_of
from referrals.models import ProjectHolder, Referral
from referrals.serializers.holders import ProjectHolderSerializer
from referrals.serializers.referrals import ReferralSerializer
from tests.worlds import build_matrix_world

pytestmark = pytest.mark.django_db

SENT = datetime.datetime(2026, 3, 2, 9, 15, tzinfo=datetime.UTC)
CLOSED = datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.UTC)  # the night the clocks change in Paris


@pytest.fixture
def world():
    """The matrix's world with every value a referral shows set, and two ``previous`` links: the
    completed referral names the person's referral to another partner, the declined one a
    referral to the same partner."""
    with time_machine.travel(SENT, tick=False):
        world = build_matrix_world()
    users = get_user_model().objects
    users.filter(pk=world.users["advisor"].pk).update(first_name="Léa", last_name="Martin", email="lea@citeslab.fr")
    users.filter(pk=world.users["receiver_staff"].pk).update(first_name="", last_name="", email="bge@bge.fr")
    world.neighbourhood.qpv_code = "QN01010M"
    world.neighbourhood.save()
    ProjectHolder.objects.filter(pk=world.accepted.project_holder_id).update(
        email="karim@example.org", project_summary="Ouvrir une boulangerie", neighbourhood=world.neighbourhood
    )
    receiving = {"actor": world.users["receiver_staff"], "organisation": world.partner}
    with time_machine.travel(CLOSED, tick=False):
        started = services.referral_start(referral=world.accepted, **receiving)
        services.referral_complete(
            referral=started,
            **receiving,
            outcome="business_created",
            comment="Boulangerie ouverte",
            business_created_on=datetime.date(2026, 3, 28),
            business_legal_form="sas_sasu",
            business_jobs_created=2,
            business_financing_eur=15000,
        )
        services.referral_decline(referral=world.referral, **receiving, reason="other", message="Hors territoire")
    Referral.objects.filter(pk=world.accepted.pk).update(previous=world.withdrawn_elsewhere)
    Referral.objects.filter(pk=world.referral.pk).update(previous=world.withdrawn)
    return world


def request_of(user) -> Request:
    request = Request(RequestFactory().get("/api/v1/referrals/"))
    request.user = user
    return request


def shown(world, role: str, referral) -> dict:
    """``referral`` as the API shows it to ``role``'s user, read as the API reads it."""
    user = world.users[role]
    referral = ReferralSerializer.setup_eager_loading(Referral.objects).get(pk=referral.pk)
    context = {"request": request_of(user), "side": side_of(user, referral)}
    return ReferralSerializer(referral, context=context).data


def completed(world) -> dict:
    """The completed referral as its sender sees it: every field."""
    advisor, staff = world.users["advisor"], world.users["receiver_staff"]
    return {
        "uuid": str(world.accepted.uuid),
        "status": "completed",
        "project_holder": {
            "uuid": str(world.accepted.project_holder.uuid),
            "first_name": "Karim",
            "last_name": "Haddouche",
            "email": "karim@example.org",
            "phone": "06 12 34 56 78",
            "neighbourhood": {
                "id": world.neighbourhood.pk,
                "name": "Chantereigne",
                "commune": "Troyes",
                "qpv_code": "QN01010M",
            },
            "situation": "job_seeker",
            "stage": "idea",
            "project_summary": "Ouvrir une boulangerie",
        },
        "from_organisation": {"id": world.citeslab.pk, "name": "CitésLab Grand Troyes", "kind": "citeslab"},
        "from_user": {
            "id": advisor.pk,
            "username": "conseiller",
            "first_name": "Léa",
            "last_name": "Martin",
            "full_name": "Léa Martin",
            "email": "lea@citeslab.fr",
        },
        "to_organisation": {"id": world.partner.pk, "name": "BGE Champagne", "kind": "creation"},
        "service": None,
        "assigned_to": {
            "id": staff.pk,
            "username": "bge",
            "first_name": "",
            "last_name": "",
            "full_name": "bge",  # no name: the username
            "email": "bge@bge.fr",
        },
        "motive": "Besoin d'un accompagnement au montage du projet",
        "decline_reason": "",
        "decline_message": "",
        "cancel_reason": "",
        "outcome": "business_created",
        "outcome_comment": "Boulangerie ouverte",
        "business_created_on": "2026-03-28",
        "business_legal_form": "sas_sasu",
        "business_jobs_created": 2,
        "business_financing_eur": 15000,
        "previous": world.withdrawn_elsewhere.uuid,
        "created_at": "2026-03-02T10:15:00+01:00",
        "first_viewed_at": None,
        "responded_at": "2026-03-02T10:15:00+01:00",
        "closed_at": "2026-03-29T03:30:00+02:00",
        "last_reminder_at": None,
    }


def declined(world) -> dict:
    """The declined referral as its sender sees it."""
    return {
        **completed(world),
        "uuid": str(world.referral.uuid),
        "status": "declined",
        "project_holder": {
            "uuid": str(world.holder.uuid),
            "first_name": "Awa",
            "last_name": "Tressard",
            "email": world.holder.email,
            "phone": "06 12 34 56 78",
            "neighbourhood": {
                "id": world.neighbourhood.pk,
                "name": "Chantereigne",
                "commune": "Troyes",
                "qpv_code": "QN01010M",
            },
            "situation": "job_seeker",
            "stage": "idea",
            "project_summary": "Ouvrir un food truck",
        },
        "service": {"id": world.service.pk, "name": "Accompagnement à la création", "category": "creation_support"},
        "assigned_to": None,
        "decline_reason": "other",
        "decline_message": "Hors territoire",
        "outcome": "",
        "outcome_comment": "",
        "business_created_on": None,
        "business_legal_form": "",
        "business_jobs_created": None,
        "business_financing_eur": None,
        "previous": world.withdrawn.uuid,
        "responded_at": "2026-03-29T03:30:00+02:00",
        "closed_at": "2026-03-29T03:30:00+02:00",
    }


# What an observer, or a side without a current grant, gets instead of the person and the texts.
NO_PERSON = {"first_name": "", "last_name": "", "email": "", "phone": "", "project_summary": ""}
NO_TEXTS = {"motive": "", "decline_message": "", "outcome_comment": ""}


def without_person(data: dict) -> dict:
    return {**data, **NO_TEXTS, "project_holder": {**data["project_holder"], **NO_PERSON}}


def test_the_sender_sees_every_field_in_order(world):
    data = shown(world, "advisor", world.accepted)

    assert data == completed(world)
    assert list(data) == list(completed(world))
    assert shown(world, "advisor", world.referral) == declined(world)


def test_the_receiver_sees_the_person_and_a_previous_link_to_its_own_organisation_only(world):
    assert shown(world, "receiver_staff", world.accepted) == {**completed(world), "previous": None}
    assert shown(world, "receiver_staff", world.referral) == declined(world)


def test_the_coordination_sees_the_facts_and_the_links_without_the_person_or_the_texts(world):
    assert shown(world, "coordinator", world.accepted) == without_person(completed(world))
    assert shown(world, "coordinator", world.referral) == without_person(declined(world))


def test_after_a_consent_withdrawal_only_the_sender_still_sees_the_person(world):
    withdrawn = shown(world, "advisor", world.withdrawn)
    assert withdrawn["status"] == "cancelled"
    assert withdrawn["cancel_reason"] == "consent_withdrawn"
    assert withdrawn["project_holder"]["first_name"] == "Nadia"
    assert withdrawn["motive"] == "Projet de couture à financer"

    for role in ("receiver_staff", "coordinator_partner"):  # the partner's grant went with the consent
        assert shown(world, role, world.withdrawn) == without_person(withdrawn), role


def test_a_page_finds_every_referrals_side_in_one_query(world, django_assert_num_queries):
    """A coordinator who is also a member of the receiving partner sees its received referrals
    whole and the others as an observer."""
    user = world.users["coordinator_partner"]
    page = list(
        ReferralSerializer.setup_eager_loading(Referral.objects).filter(
            pk__in=[world.accepted.pk, world.referral.pk, world.withdrawn_elsewhere.pk]
        )
    )
    with django_assert_num_queries(1):
        data = ReferralSerializer(page, many=True, context={"request": request_of(user)}).data

    by_uuid = {row["uuid"]: row for row in data}
    assert by_uuid[str(world.accepted.uuid)] == {**completed(world), "previous": None}
    assert by_uuid[str(world.referral.uuid)] == declined(world)
    elsewhere = by_uuid[str(world.withdrawn_elsewhere.uuid)]
    assert elsewhere["project_holder"] | NO_PERSON == elsewhere["project_holder"]
    assert (elsewhere["to_organisation"]["name"], elsewhere["motive"]) == ("Initiative Aube", "")


def test_without_a_side_in_the_context_the_request_users_is_read(world):
    referral = ReferralSerializer.setup_eager_loading(Referral.objects).get(pk=world.accepted.pk)

    data = ReferralSerializer(referral, context={"request": request_of(world.users["coordinator"])}).data

    assert data == without_person(completed(world))


def test_dates_are_written_in_the_current_time_zone(world):
    with timezone.override("UTC"):
        data = shown(world, "advisor", world.accepted)

    assert (data["created_at"], data["closed_at"]) == ("2026-03-02T09:15:00Z", "2026-03-29T01:30:00Z")


def test_the_statistics_fields_of_a_person_only_for_who_reads_the_file(world):
    holder = world.holder
    ProjectHolder.objects.filter(pk=holder.pk).update(gender="female", age_bracket="26_44")
    holder.refresh_from_db()

    def statistics(role):
        data = ProjectHolderSerializer(holder, context={"access": holder_access(world.users[role], holder)}).data
        return data["gender"], data["age_bracket"]

    assert statistics("advisor") == ("female", "26_44")
    assert statistics("receiver_staff") == ("", "")

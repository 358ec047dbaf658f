"""The representations written out for speed give exactly what DRF's generic walk of their fields
gives, so that a field added to a ``Meta.fields`` and not to the written-out dict fails here."""

import datetime
import json
import uuid

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request

from partners.serializers import NeighbourhoodSerializer, OrganisationSummarySerializer, UserSummarySerializer
from referrals.models import Referral
from referrals.serializers.holders import ProjectHolderSerializer, ReferralHolderSerializer
from referrals.serializers.referrals import ReferralSerializer, ServiceSummarySerializer
from tests.worlds import build_matrix_world

pytestmark = pytest.mark.django_db


def generic(serializer, instance) -> dict:
    """What DRF's Serializer.to_representation makes of ``instance`` with ``serializer``'s fields."""
    return dict(serializers.Serializer.to_representation(serializer, instance))


def both(serializer_class, instance) -> tuple[dict, dict]:
    serializer = serializer_class()
    return serializer.to_representation(instance), generic(serializer, instance)


def test_summaries_are_the_generic_shapes(world):
    cases = [
        (OrganisationSummarySerializer, world.partner),
        (NeighbourhoodSerializer, world.neighbourhood),
        (UserSummarySerializer, world.users["advisor"]),
        (ServiceSummarySerializer, world.service),
    ]
    for serializer_class, instance in cases:
        fast, slow = both(serializer_class, instance)
        assert fast == slow, serializer_class.__name__
        assert set(fast) == set(serializer_class.Meta.fields)


def test_a_user_without_a_name_is_shown_by_username(world):
    user = world.users["advisor"]
    user.first_name = user.last_name = ""
    fast, slow = both(UserSummarySerializer, user)
    assert fast == slow
    assert fast["full_name"] == user.username


@pytest.mark.parametrize("with_neighbourhood", [True, False])
@pytest.mark.parametrize("erased", [True, False])
def test_holders_are_the_generic_shapes(world, with_neighbourhood, erased):
    holder = world.holder
    holder.gender, holder.age_bracket = "", ""  # shown only with the reader's access: below
    if not with_neighbourhood:
        holder.neighbourhood = None
    holder.erased_at = timezone.now() if erased else None
    for serializer_class in (ReferralHolderSerializer, ProjectHolderSerializer):
        fast, slow = both(serializer_class, holder)
        assert fast == slow, serializer_class.__name__
        assert list(fast) == list(serializer_class.Meta.fields)
    assert (fast["erased_at"] is None) is not erased


def test_a_holder_with_statistics_is_the_generic_shape_for_who_reads_the_file(world):
    from referrals.access import holder_access

    holder = world.holder
    holder.gender, holder.age_bracket = "male", "26_44"
    serializer = ProjectHolderSerializer(context={"access": holder_access(world.users["advisor"], holder)})

    assert serializer.to_representation(holder) == generic(serializer, holder)
    partner = ProjectHolderSerializer(context={"access": holder_access(world.users["receiver_staff"], holder)})
    assert partner.to_representation(holder) == generic(serializer, holder) | {"gender": "", "age_bracket": ""}


def test_a_referral_with_every_field_set_is_the_generic_shape(world):
    referral = world.accepted
    referral.previous = world.referral
    referral.service = world.service
    referral.assigned_to = world.users["receiver_staff"]
    moment = timezone.make_aware(datetime.datetime(2026, 3, 29, 1, 30), datetime.UTC)  # the night clocks change
    for name in ("first_viewed_at", "responded_at", "closed_at", "last_reminder_at"):
        setattr(referral, name, moment)
    referral.motive, referral.outcome_comment = "Projet de boulangerie", "Suivi"
    referral.outcome, referral.business_created_on = Referral.Outcome.BUSINESS_CREATED, datetime.date(2026, 3, 2)
    referral.business_legal_form, referral.business_jobs_created = Referral.LegalForm.SAS_SASU, 2
    referral.business_financing_eur = 15000
    written = ReferralSerializer.written_out(referral)
    assert written == generic(ReferralSerializer(), referral)
    assert list(written) == ReferralSerializer.Meta.fields
    assert written["previous"] == world.referral.uuid
    assert written["closed_at"] == "2026-03-29T03:30:00+02:00"
    assert (written["business_created_on"], written["business_financing_eur"]) == ("2026-03-02", 15000)


def test_a_referral_with_its_optional_links_empty_is_the_generic_shape(world):
    referral = world.referral
    referral.previous = referral.service = referral.assigned_to = referral.from_user = None
    referral.first_viewed_at = referral.responded_at = referral.closed_at = referral.last_reminder_at = None
    written = ReferralSerializer.written_out(referral)
    assert written == generic(ReferralSerializer(), referral)
    assert [written[name] for name in ("previous", "service", "assigned_to", "from_user", "closed_at")] == [None] * 5


@pytest.mark.parametrize("zone", ["Europe/Paris", "UTC"])
def test_the_list_writes_each_referral_as_the_serializer_does_for_every_viewer(zone):
    """The list reads its page as columns (``ROW_COLUMNS``, ``rows_written_out``): each row must be
    what ``ReferralSerializer`` writes of the referral for the same viewer, for each side (a
    coordinator sees the facts only, a coordinator who is also a partner's member its received
    referrals whole; a receiver sees a ``previous`` link only to its own organisation), with the
    optional links set and empty."""
    world = build_matrix_world()
    Referral.objects.filter(pk=world.accepted.pk).update(
        previous=world.withdrawn_elsewhere, assigned_to=world.users["receiver_staff"]
    )
    Referral.objects.filter(pk=world.referral.pk).update(previous=world.withdrawn, service=None)
    viewers = ["advisor", "receiver_staff", "coordinator", "coordinator_partner"]
    checked = 0
    with timezone.override(zone):
        for role in viewers:
            request = Request(RequestFactory().get("/api/v1/referrals/"))
            request.user = world.users[role]
            listed = world.client(role).get("/api/v1/referrals/?page_size=200").json()["results"]
            by_uuid = {
                r.uuid: r
                for r in Referral.objects.select_related("previous").filter(uuid__in=[row["uuid"] for row in listed])
            }
            for row in listed:
                referral = by_uuid[uuid.UUID(row["uuid"])]
                assert row == json.loads(
                    json.dumps(ReferralSerializer(referral, context={"request": request}).data, cls=DjangoJSONEncoder)
                ), (role, referral)
                checked += 1
            assert listed, role
    previous = {
        row["uuid"]: row["previous"] for row in world.client("advisor").get("/api/v1/referrals/").json()["results"]
    }
    assert previous[str(world.accepted.uuid)] == str(world.withdrawn_elsewhere.uuid)
    receiver = {row["uuid"]: row for row in world.client("receiver_staff").get("/api/v1/referrals/").json()["results"]}
    assert receiver[str(world.accepted.uuid)]["previous"] is None  # another partner's referral
    assert receiver[str(world.referral.uuid)]["previous"] == str(world.withdrawn.uuid)
    assert checked >= 12

"""Writes racing on one object: exactly one wins, the others get the documented answer, never a 500.

On PostgreSQL a row lock decides; on SQLite (the demo) a write transaction takes the database's
write lock when it begins, so the others wait for it and then see what it wrote. Both databases run
these tests (the suite's SQLite database is a file, as the demo's: tests/conftest.py).
"""

import threading
import uuid
from functools import partial

import pytest
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from messaging.models import Note
from network.errors import Conflict, InvalidTransition
from referrals import services
from referrals.models import Referral, ReferralEvent
from tests.partners.factories import member_of
from tests.referrals.factories import ReferralFactory


def race(*calls):
    """Run each call in its own thread and database connection, released together."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = ("ok", call())
        except (Conflict, InvalidTransition) as error:
            results[index] = ("refused", error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_accept_and_decline_at_once_give_exactly_one_winner(attempt):
    referral = ReferralFactory()
    receiving = {"actor": referral.receiver, "organisation": referral.to_organisation}
    seen_by_a = Referral.objects.get(pk=referral.pk)
    seen_by_b = Referral.objects.get(pk=referral.pk)

    results = race(
        lambda: services.referral_accept(referral=seen_by_a, **receiving).status,
        lambda: services.referral_decline(referral=seen_by_b, reason="no_capacity", **receiving).status,
    )

    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["ok", "refused"], results
    loser_code = next(value for kind, value in results if kind == "refused")
    assert loser_code == "conflict"
    winner_status = next(value for kind, value in results if kind == "ok")
    referral.refresh_from_db()
    assert referral.status == winner_status
    assert ReferralEvent.objects.filter(referral=referral).exclude(to_status="sent").count() == 1


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def post_at_once(requests) -> list[tuple[int, dict]]:
    """Each (client, url, body) posted from its own thread and database connection, released together."""
    responses = race(*(partial(client.post, url, body, format="json") for client, url, body in requests))
    assert all(kind == "ok" for kind, _ in responses), responses
    return [(response.status_code, response.json() if response.content else {}) for _, response in responses]


@pytest.mark.django_db(transaction=True)
def test_eight_accepts_of_one_referral_give_one_acceptance_and_seven_conflicts():
    referral = ReferralFactory()
    staff = [referral.receiver, *(member_of(referral.to_organisation) for _ in range(7))]

    answers = post_at_once((api(user), f"/api/v1/referrals/{referral.uuid}/accept/", {}) for user in staff)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [409] * 7, answers
    # A loser that read the referral before the winner wrote is told of the conflict; one that read
    # it after, that an accepted referral cannot be accepted: both 409, neither a 500.
    assert {body.get("code") for status, body in answers if status == 409} <= {"conflict", "invalid_transition"}
    assert ReferralEvent.objects.filter(referral=referral, to_status="accepted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_accepts_racing_declines_leave_one_answer():
    referral = ReferralFactory()
    staff = [referral.receiver, *(member_of(referral.to_organisation) for _ in range(5))]
    decline = (f"/api/v1/referrals/{referral.uuid}/decline/", {"reason": "no_capacity"})
    accept = (f"/api/v1/referrals/{referral.uuid}/accept/", {})
    requests = [(api(user), *(accept if index % 2 else decline)) for index, user in enumerate(staff)]

    answers = post_at_once(requests)

    assert sorted(status for status, _ in answers) == [200] + [409] * 5, answers
    assert ReferralEvent.objects.filter(referral=referral).exclude(to_status="sent").count() == 1


@pytest.mark.django_db(transaction=True)
def test_eight_notes_with_one_client_id_make_one_note():
    referral = ReferralFactory(accepted=True)
    client = api(referral.receiver)
    body = {"body": "Rendez-vous fixé", "client_id": str(uuid.uuid4())}

    answers = post_at_once([(client, f"/api/v1/referrals/{referral.uuid}/notes/", body)] * 8)

    assert all(status in (200, 201) for status, _ in answers), answers
    assert len({answer["uuid"] for _, answer in answers}) == 1
    assert Note.objects.filter(referral=referral).count() == 1


@pytest.mark.django_db(transaction=True)
def test_four_withdrawals_of_one_consent_withdraw_it_once():
    referral = ReferralFactory(accepted=True)
    holder, consent = referral.project_holder, referral.consent
    advisors = [holder.created_by, *(member_of(holder.created_by_organisation) for _ in range(3))]
    url = f"/api/v1/consents/{consent.pk}/withdraw/"

    answers = post_at_once((api(user), url, {"reason": "Ne souhaite plus"}) for user in advisors)

    # The losers are told it was withdrawn meanwhile (409) or, having read it after, already (400).
    assert {(status, body["code"]) for status, body in answers if status != 200} <= {
        (409, "conflict"),
        (400, "invalid"),
    }
    assert [status for status, _ in answers].count(200) == 1, answers
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert ReferralEvent.objects.filter(referral=referral, to_status="cancelled").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_note_form_submitted_several_times_at_once_makes_one_note():
    referral = ReferralFactory(accepted=True)
    page = Client()
    page.force_login(referral.receiver)
    form = {"body": "Premier rendez-vous", "visibility": "shared", "client_id": str(uuid.uuid4())}
    url = f"/orientations/{referral.uuid}/notes/"

    results = race(*(partial(page.post, url, form) for _ in range(4)))

    assert [response.status_code for _, response in results] == [302] * 4, results
    assert Note.objects.filter(referral=referral).count() == 1

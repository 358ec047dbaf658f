"""Two transitions on one referral at once: exactly one wins (row lock on PostgreSQL)."""

import threading

import pytest
from django.db import connections

from network.errors import Conflict, InvalidTransition
from referrals import services
from referrals.models import Referral, ReferralEvent
from tests.conftest import requires_postgres
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


@requires_postgres
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

"""The partner's inbox: the referrals addressed to its organisation."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from referrals import services
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ReferralFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]


@pytest.fixture
def bge():
    return OrganisationFactory(name="BGE Champagne")


@pytest.fixture
def referral(bge):
    return ReferralFactory(to_organisation=bge, motive="Montage du projet")


def test_inbox_lists_the_referrals_addressed_to_the_organisation(client, bge, referral):
    other = ReferralFactory()
    client.force_login(referral.receiver)

    page = client.get("/orientations/recues/").content.decode()

    assert f'data-referral="{referral.uuid}"' in page
    assert f'data-referral="{other.uuid}"' not in page
    assert 'data-ws-path="/ws/inbox/"' in page
    assert "nouvelle" in page


def test_inbox_filters_by_status(client, bge, referral):
    accepted = ReferralFactory(to_organisation=bge, accepted=True)
    client.force_login(referral.receiver)

    page = client.get("/orientations/recues/", {"status": "accepted"}).content.decode()

    assert f'data-referral="{accepted.uuid}"' in page
    assert f'data-referral="{referral.uuid}"' not in page


def test_inbox_query_count_does_not_grow_with_rows(client, bge, count_queries, django_assert_num_queries):
    staff = member_of(bge)
    client.force_login(staff)
    for _ in range(2):
        ReferralFactory(to_organisation=bge, receiver=staff)
    few = count_queries(client, "/orientations/recues/")
    for path in ({}, {"accepted": True}, {"in_progress": True}) * 3 + ({},):
        ReferralFactory(to_organisation=bge, receiver=staff, **path)

    with django_assert_num_queries(few):
        response = client.get("/orientations/recues/")

    assert len(response.context["page"]) == 12


def test_inbox_pages_count_the_rows_of_the_status_shown(client, bge, referral, monkeypatch):
    monkeypatch.setattr("referrals.views.lists.PAGE_SIZE", 2)
    for path in ({}, {}, {"accepted": True}):
        ReferralFactory(to_organisation=bge, receiver=referral.receiver, **path)
    ReferralFactory(accepted=True)  # another partner's
    client.force_login(referral.receiver)

    every = client.get("/orientations/recues/").context["page"]
    sent = client.get("/orientations/recues/", {"status": "sent"}).context["page"]
    accepted = client.get("/orientations/recues/", {"status": "accepted"}).context["page"]

    assert (every.paginator.count, every.paginator.num_pages) == (4, 2)
    assert (sent.paginator.count, sent.paginator.num_pages, len(sent)) == (3, 2, 2)
    assert (accepted.paginator.count, accepted.paginator.num_pages, len(accepted)) == (1, 1, 1)


def test_advisor_cannot_open_the_inbox(client, referral):
    client.force_login(referral.project_holder.created_by)

    assert client.get("/orientations/recues/").status_code == 403


def test_inbox_counts_are_computed_again_only_when_the_stream_has_moved(client, bge, referral):
    """The counts by status read every referral of the organisation: kept until the next event
    (``messaging.selectors.as_of_last_event``), so a reload reads none, and a transition (which
    writes an event) shows on the next load."""
    client.force_login(referral.receiver)

    def load():
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/orientations/recues/")
        counts = {code: n for code, _label, n in response.context["statuses"] if n}
        grouped = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
        return counts, grouped

    first, first_grouped = load()
    again, again_grouped = load()
    services.referral_accept(referral=referral, actor=referral.receiver, organisation=bge)
    moved, moved_grouped = load()

    assert first == again == {"sent": 1}
    assert (len(first_grouped), len(again_grouped), len(moved_grouped)) == (1, 0, 1)
    assert moved == {"accepted": 1}

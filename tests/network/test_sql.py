"""network/sql.py: the statements every list runs, planned once per connection on PostgreSQL."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from network.sql import fetch_models, ids_in, planned_cursor
from tests.referrals.factories import ReferralFactory

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's: runs in .ci/run's PostgreSQL pass"
)


def test_ids_are_one_bigint_array_on_postgresql_whatever_their_size_and_an_in_list_elsewhere():
    small, large = ids_in("id", [1, 2], vendor="postgresql"), ids_in("id", [70_000, 2**40], vendor="postgresql")

    assert small[0] == large[0] == "id = ANY(%s)"
    assert [type(pk).__name__ for pk in small[1][0] + large[1][0]] == ["Int8"] * 4
    assert small[1] == [[1, 2]]
    assert ids_in("id", [3, 4, 5], vendor="sqlite") == ("id IN (%s, %s, %s)", [3, 4, 5])


@pytest.mark.django_db
def test_a_planned_cursor_reads_what_djangos_reads_and_its_statements_are_logged():
    referrals = [ReferralFactory(), ReferralFactory(), ReferralFactory()]
    wanted = sorted(r.pk for r in referrals[:2])
    where, params = ids_in("id", wanted, vendor=connection.vendor)

    with CaptureQueriesContext(connection) as queries, planned_cursor() as cursor:
        cursor.execute(f"SELECT id FROM referrals_referral WHERE {where} ORDER BY id", params)
        read = [pk for (pk,) in cursor.fetchall()]

    assert read == wanted
    assert len(queries) == 1 and "referrals_referral" in queries[0]["sql"]


@on_postgresql
@pytest.mark.django_db
def test_postgresql_keeps_a_planned_statement_prepared_and_none_of_djangos_own():
    for run in range(6):
        with planned_cursor() as cursor:
            cursor.execute("SELECT %s::int + 1 AS planned_statement", [run])
            assert cursor.fetchone() == (run + 1,)
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::int + 2 AS client_statement", [run])

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = " ".join(statement for (statement,) in cursor.fetchall())
    assert "planned_statement" in prepared
    assert "client_statement" not in prepared


@pytest.mark.django_db
def test_fetch_models_builds_what_a_queryset_builds_with_its_relations_cached():
    from referrals.models import Referral

    referral = ReferralFactory(accepted=True)
    related = ("project_holder", "from_organisation", "to_organisation", "service", "assigned_to")
    expected = Referral.objects.select_related(*related).get(pk=referral.pk)

    with CaptureQueriesContext(connection) as queries:
        (read,) = fetch_models(Referral, where="t0.id = %s", params=[referral.pk], related=related)
        # Every relation asked for is there, a null one (no service) as None, without a query.
        assert read.project_holder.first_name == expected.project_holder.first_name
        assert read.to_organisation.name == expected.to_organisation.name
        assert read.from_organisation.kind == expected.from_organisation.kind
        assert read.service is None
    assert len(queries) == 1

    for field in Referral._meta.concrete_fields:  # uuids, datetimes, booleans, texts, as Django reads them
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert isinstance(read.uuid, uuid.UUID) and read.created_at.tzinfo is not None
    assert read.assigned_to == expected.assigned_to
    assert read.project_holder.uuid == expected.project_holder.uuid
    read.motive = "Changée"
    read.save(update_fields=["motive"])  # a saved instance, as from a queryset
    assert Referral.objects.get(pk=referral.pk).motive == "Changée"


@pytest.mark.django_db
def test_fetch_models_reads_nothing_for_no_row_and_orders_many():
    from referrals.models import Referral

    referrals = [ReferralFactory(), ReferralFactory()]

    assert fetch_models(Referral, where="t0.id = %s", params=[0]) == []
    assert [r.pk for r in fetch_models(Referral, where="t0.id > %s", params=[0], order_by="t0.id DESC")] == sorted(
        (r.pk for r in referrals), reverse=True
    )


@pytest.mark.django_db
def test_active_member_list_is_active_members_of_read_as_planned_sql():
    from partners.models import Membership
    from partners.selectors import active_member_list, active_members_of
    from tests.partners.factories import MembershipFactory, OrganisationFactory, UserFactory

    organisation = OrganisationFactory()
    members = [MembershipFactory(organisation=organisation).user for _ in range(3)]
    Membership.objects.filter(user=members[1]).update(is_active=False)
    retired = members[2]
    retired.is_active = False
    retired.save()
    MembershipFactory(organisation=OrganisationFactory(), user=UserFactory())  # elsewhere

    listed = active_member_list(organisation.pk)

    assert listed == list(active_members_of(organisation)) == [members[0]]
    assert listed[0].email == members[0].email

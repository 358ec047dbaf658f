"""network/paging.py: a page's ids first, then its rows, in the list's order."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from network.paging import AmongIds, IdsFirstPaginator
from partners.models import Neighbourhood
from referrals.models import ProjectHolder, Referral
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def neighbourhoods():
    return [Neighbourhood.objects.create(name=name, commune="Troyes") for name in "EDCBAGF"]


def test_pages_keep_the_lists_order_and_read_ids_then_rows(neighbourhoods):
    rows = Neighbourhood.objects.order_by("-name")
    paginator = IdsFirstPaginator(rows, 3)

    with CaptureQueriesContext(connection) as queries:
        pages = [[n.name for n in paginator.page(number)] for number in (1, 2, 3)]

    assert pages == [["G", "F", "E"], ["D", "C", "B"], ["A"]]
    count, *reads = [q["sql"] for q in queries.captured_queries]
    assert "COUNT" in count and len(reads) == 6  # per page: the ids, then the rows
    assert all(" IN (" in sql for sql in reads[1::2])


def test_a_page_out_of_range_is_the_last_one_with_get_page(neighbourhoods):
    page = IdsFirstPaginator(Neighbourhood.objects.order_by("name"), 5).get_page(99)

    assert (page.number, [n.name for n in page]) == (2, ["F", "G"])


def test_a_list_that_is_not_a_queryset_is_sliced():
    assert list(IdsFirstPaginator(list(range(10)), 4).page(3)) == [8, 9]


def test_a_count_the_caller_knows_is_not_counted_again(neighbourhoods):
    paginator = IdsFirstPaginator(Neighbourhood.objects.order_by("name"), 3, count=7)

    with CaptureQueriesContext(connection) as queries:
        page = paginator.page(3)

    assert (paginator.num_pages, [n.name for n in page]) == (3, ["G"])
    assert not any("COUNT" in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize(("per_page", "orphans"), [(2, 0), (3, 0), (2, 1), (7, 0)])
def test_a_page_past_the_middle_is_read_from_the_end_with_the_same_rows(neighbourhoods, per_page, orphans):
    rows = Neighbourhood.objects.order_by("-name")
    names = [n.name for n in rows]
    paginator = IdsFirstPaginator(rows, per_page, orphans=orphans)
    expected = Paginator(names, per_page, orphans=orphans)

    for number in paginator.page_range:
        with CaptureQueriesContext(connection) as queries:
            page = [n.name for n in paginator.page(number)]
        ids_sql = queries.captured_queries[-2]["sql"]
        bottom = (number - 1) * per_page
        top = paginator.count if bottom + per_page + orphans >= paginator.count else bottom + per_page
        assert page == list(expected.page(number))
        reversed_walk = bottom > paginator.count - top
        assert ('"name" ASC' in ids_sql) == reversed_walk, (number, ids_sql)
    assert paginator.num_pages == expected.num_pages


def test_rows_read_by_id_the_callers_way_keep_the_lists_order(neighbourhoods):
    rows = Neighbourhood.objects.filter(name__gt="B").order_by("-name")
    read = []

    def by_id(ids):
        read.append(list(ids))
        return Neighbourhood.objects.filter(pk__in=ids).values_list("pk", "name", named=True)

    paginator = IdsFirstPaginator(rows, 4, rows=by_id)
    pages = [[row.name for row in paginator.page(number)] for number in paginator.page_range]

    assert pages == [["G", "F", "E", "D"], ["C"]]
    assert [len(ids) for ids in read] == [4, 1]


def test_among_ids_selects_what_the_in_subquery_it_replaces_selects(neighbourhoods):
    north, south = neighbourhoods[:2]
    for neighbourhood in (north, north, south, None):
        ReferralFactory(holder=ProjectHolderFactory(neighbourhood=neighbourhood))
    ReferralFactory(holder=Referral.objects.filter(project_holder__neighbourhood=north).first().project_holder)
    people = ProjectHolder.objects.filter(neighbourhood=north)  # ordered by name: the subquery drops it

    among = Referral.objects.filter(AmongIds("project_holder_id", people))
    joined = Referral.objects.filter(project_holder__neighbourhood=north)

    assert list(among.values_list("pk", flat=True)) == list(joined.values_list("pk", flat=True))
    assert among.count() == 3
    assert list(among.exclude(status=Referral.Status.SENT)) == []
    assert not Referral.objects.filter(AmongIds("project_holder_id", people.none())).exists()
    expected = "= ANY(ARRAY(SELECT" if connection.vendor == "postgresql" else " IN (SELECT"
    assert expected in str(among.query)
    assert str(among.query).count("ORDER BY") == 1  # the list's own

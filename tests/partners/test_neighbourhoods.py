"""QPV residence: derived from the neighbourhood's official code, never stored; "hors QPV" otherwise."""

import pytest
from django.db.models import Count

from partners.models import QpvResidence, qpv_q, qpv_residence_case, qpv_residence_of
from referrals.models import ProjectHolder, Referral
from tests.partners.factories import NeighbourhoodFactory
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def test_a_neighbourhood_is_a_qpv_when_it_carries_an_official_code():
    qpv, other = NeighbourhoodFactory(qpv_code="QN01001M"), NeighbourhoodFactory()

    assert (qpv.is_qpv, other.is_qpv) == (True, False)
    assert [qpv_residence_of(n) for n in (qpv, other, None)] == ["qpv", "outside_qpv", "outside_qpv"]
    assert (QpvResidence.QPV.label, QpvResidence.OUTSIDE.label) == ("QPV", "hors QPV")


def test_the_database_expressions_agree_with_the_property_a_person_without_neighbourhood_included():
    qpv, other = NeighbourhoodFactory(qpv_code="QN01001M"), NeighbourhoodFactory()
    in_qpv = ProjectHolderFactory(neighbourhood=qpv)
    outside = ProjectHolderFactory(neighbourhood=other)
    nowhere = ProjectHolderFactory(neighbourhood=None)

    counted = ProjectHolder.objects.aggregate(qpv=Count("pk", filter=qpv_q("neighbourhood__")), all=Count("pk"))
    grouped = dict(
        ProjectHolder.objects.annotate(qpv=qpv_residence_case("neighbourhood__"))
        .values("qpv")
        .annotate(n=Count("pk"))
        .values_list("qpv", "n")
    )
    by_person = dict(ProjectHolder.objects.annotate(qpv=qpv_residence_case("neighbourhood__")).values_list("pk", "qpv"))

    assert counted == {"qpv": 1, "all": 3}
    assert grouped == {"qpv": 1, "outside_qpv": 2}
    for person in (in_qpv, outside, nowhere):
        assert by_person[person.pk] == qpv_residence_of(person.neighbourhood)


def test_the_expressions_reach_the_neighbourhood_through_any_path():
    ReferralFactory(holder=ProjectHolderFactory(neighbourhood=NeighbourhoodFactory(qpv_code="QN01002M")))
    ReferralFactory(holder=ProjectHolderFactory(neighbourhood=None))

    assert Referral.objects.filter(qpv_q("project_holder__neighbourhood__")).count() == 1
    assert sorted(
        Referral.objects.annotate(qpv=qpv_residence_case("project_holder__neighbourhood__")).values_list(
            "qpv", flat=True
        )
    ) == ["outside_qpv", "qpv"]

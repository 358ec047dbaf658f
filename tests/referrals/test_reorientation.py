"""Re-orientation: from a referral that did not take the person where it meant to, its
CitésLab sends a new one naming it as ``previous``; each side sees only its own part of the chain.

The roles, as in the authorization matrix: the sending advisor, an advisor of another CitésLab,
the receiving partner of the old referral (ADIE), the receiving partner of the new one (BGE), an
unrelated partner (CMA) and the coordination.
"""

import json
import uuid
from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from messaging.models import Event
from network.errors import ValidationFailed
from referrals import services
from referrals.models import Referral
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ConsentFactory, ProjectHolderFactory, ReferralFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]

ROLES = ("advisor", "other_citeslab", "old_receiver", "new_receiver", "unrelated", "coordinator")
NEW_MOTIVE = "Financer le camion par un prêt d'honneur"


@dataclass
class Reorientation:
    citeslab: object
    adie: object  # received the old referral
    bge: object  # receives the new one
    cma: object  # unrelated: neither
    users: dict
    holder: object
    old: object  # declined by ADIE
    new: object  # to BGE, naming ``old`` as previous

    def page(self, role):
        client = Client()
        client.force_login(self.users[role])
        return client

    def api(self, role):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=self.users[role])
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client


def reorient(previous, to, *, motive=NEW_MOTIVE):
    """A new referral of ``previous``'s person to ``to``, by their CitésLab, naming ``previous``."""
    holder = previous.project_holder
    ConsentFactory(holder=holder, scope_kinds=(), scope_organisations=[to])
    return services.referral_send(
        holder=holder,
        actor=holder.created_by,
        organisation=holder.created_by_organisation,
        to_organisation=to,
        motive=motive,
        previous=previous,
    )


def decline(referral):
    services.referral_decline(
        referral=referral,
        actor=member_of(referral.to_organisation),
        organisation=referral.to_organisation,
        reason=Referral.DeclineReason.WRONG_PARTNER,
        message="Plutôt un prêt d'honneur",
    )
    referral.refresh_from_db()
    return referral


@pytest.fixture
def reorientation():
    """A person's referral declined by ADIE and the one their advisor sent to BGE after it, and one user per role."""
    citeslab = OrganisationFactory(citeslab=True, name="CitésLab Grand Troyes")
    advisor = member_of(citeslab)
    adie = OrganisationFactory(name="ADIE Aube")
    bge = OrganisationFactory(name="BGE Champagne")
    cma = OrganisationFactory(name="CMA Aube")
    coordination = OrganisationFactory(coordination=True, name="Politique de la Ville")
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor, first_name="Awa", last_name="Tressard")
    old_receiver = member_of(adie)
    old = decline(ReferralFactory(holder=holder, to_organisation=adie, receiver=old_receiver))
    new = reorient(old, bge)
    users = {
        "advisor": advisor,
        "other_citeslab": member_of(OrganisationFactory(citeslab=True, name="CitésLab Romilly")),
        "old_receiver": old_receiver,
        "new_receiver": member_of(bge),
        "unrelated": member_of(cma),
        "coordinator": member_of(coordination),
    }
    return Reorientation(citeslab, adie, bge, cma, users, holder, old, new)


def page_url(referral):
    return f"/orientations/{referral.uuid}/"


def form_url(holder, previous=None):
    return f"/porteurs/{holder.uuid}/orienter/" + (f"?previous={previous}" if previous else "")


def reorient_link(referral):
    return f"orienter/?previous={referral.uuid}"


def nothing_changed(before):
    return (Referral.objects.count(), Event.objects.count()) == before


def counts():
    return Referral.objects.count(), Event.objects.count()


# --- who gets the action ------------------------------------------------------------------------

# The old (declined) referral's page: status, and whether "Réorienter" is offered.
OLD_PAGE = {
    "advisor": (200, True),
    "other_citeslab": (404, False),
    "old_receiver": (200, False),
    "new_receiver": (404, False),
    "unrelated": (404, False),
    "coordinator": (200, False),
}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_sending_advisor_is_offered_to_reorient(reorientation, role):
    response = reorientation.page(role).get(page_url(reorientation.old))

    status, offered = OLD_PAGE[role]
    assert response.status_code == status
    assert (reorient_link(reorientation.old) in response.content.decode()) is offered


@pytest.mark.parametrize(
    ("path", "outcome", "offered"),
    [
        (("decline",), "", True),
        (("expire",), "", True),
        (("cancel",), "", True),
        (("accept", "start"), Referral.Outcome.REORIENTED, True),
        ((), "", False),
        (("accept",), "", False),
        (("accept", "start"), "", False),
        (("accept", "start"), Referral.Outcome.PROJECT_VALIDATED, False),
        (("accept", "start"), Referral.Outcome.JOB, False),
    ],
)
def test_the_action_is_offered_for_a_referral_that_ended_without_getting_there(client, path, outcome, offered):
    referral = ReferralFactory(path=path)
    if outcome:
        services.referral_complete(
            referral=referral, actor=referral.receiver, organisation=referral.to_organisation, outcome=outcome
        )
    client.force_login(referral.project_holder.created_by)

    page = client.get(page_url(referral)).content.decode()

    assert (reorient_link(referral) in page) is offered


def test_the_action_is_not_offered_for_an_erased_person(client, reorientation):
    services.project_holder_erase(
        holder=reorientation.holder, actor=reorientation.users["advisor"], organisation=reorientation.citeslab
    )
    client.force_login(reorientation.users["advisor"])

    assert reorient_link(reorientation.old) not in client.get(page_url(reorientation.old)).content.decode()


# --- the prefilled form -------------------------------------------------------------------------

FORM = {
    "advisor": 200,
    "other_citeslab": 404,  # not the person's CitésLab
    "old_receiver": 403,  # a partner's staff: not an advisor's page
    "new_receiver": 403,
    "unrelated": 403,
    "coordinator": 403,
}


@pytest.mark.parametrize("role", ROLES)
def test_the_reorientation_form_is_the_sending_advisors(reorientation, role):
    response = reorientation.page(role).get(form_url(reorientation.holder, reorientation.old.uuid))

    assert response.status_code == FORM[role]


def test_the_form_is_prefilled_from_the_previous_referral(reorientation):
    response = reorientation.page("advisor").get(form_url(reorientation.holder, reorientation.old.uuid))

    page = response.content.decode()
    form = response.context["form"]
    assert form["previous"].value() == str(reorientation.old.uuid)
    assert form["motive"].value() == reorientation.old.motive
    assert form["to_organisation"].value() is None  # the advisor chooses the next partner
    assert f'type="hidden" name="previous" value="{reorientation.old.uuid}"' in page
    assert "Réorienter Awa Tressard" in page
    assert "ADIE Aube" in page and "Plutôt un prêt d&#x27;honneur" in page  # where the person comes from


def test_sending_the_form_names_the_previous_referral(reorientation):
    cma = reorientation.cma
    ConsentFactory(holder=reorientation.holder, scope_kinds=(), scope_organisations=[cma])

    response = reorientation.page("advisor").post(
        form_url(reorientation.holder),
        {"to_organisation": cma.pk, "motive": "Immatriculation", "previous": reorientation.old.uuid, "action": "send"},
    )

    created = Referral.objects.get(to_organisation=cma)
    assert response.status_code == 302 and response["Location"] == page_url(created)
    assert created.previous == reorientation.old and created.from_organisation == reorientation.citeslab


@pytest.mark.parametrize("role", [r for r in ROLES if r != "advisor"])
def test_nobody_else_can_send_the_reorientation(reorientation, role):
    before = counts()

    response = reorientation.page(role).post(
        form_url(reorientation.holder),
        {
            "to_organisation": reorientation.bge.pk,
            "motive": "Autre",
            "previous": reorientation.old.uuid,
            "action": "send",
        },
    )

    assert response.status_code == FORM[role]
    assert nothing_changed(before)


# --- refusals -----------------------------------------------------------------------------------


def post_reorientation(reorientation, previous):
    cma = reorientation.cma
    ConsentFactory(holder=reorientation.holder, scope_kinds=(), scope_organisations=[cma])
    before = counts()
    response = reorientation.page("advisor").post(
        form_url(reorientation.holder),
        {"to_organisation": cma.pk, "motive": "Immatriculation", "previous": previous, "action": "send"},
    )
    return response, before


def test_an_open_previous_referral_is_refused_and_nothing_changes(reorientation):
    open_one = ReferralFactory(holder=reorientation.holder, to_organisation=OrganisationFactory(), accepted=True)

    response, before = post_reorientation(reorientation, open_one.uuid)

    assert response.status_code == 400
    assert "L&#x27;orientation précédente est encore en cours (Acceptée)" in response.content.decode()
    assert response.context["form"]["motive"].value() == "Immatriculation"
    assert nothing_changed(before)


def test_another_persons_referral_is_refused_and_nothing_changes(reorientation):
    someone_else = ProjectHolderFactory(organisation=reorientation.citeslab, actor=reorientation.users["advisor"])
    theirs = ReferralFactory(holder=someone_else, declined=True)

    response, before = post_reorientation(reorientation, theirs.uuid)

    assert response.status_code == 400
    assert "L&#x27;orientation précédente doit concerner la même personne." in response.content.decode()
    assert nothing_changed(before)


@pytest.mark.parametrize("previous", ["other_citeslab", "unknown", "malformed"])
def test_a_referral_the_advisor_cannot_see_is_not_found_and_nothing_changes(reorientation, previous):
    value = {
        "other_citeslab": lambda: ReferralFactory(declined=True).uuid,  # another CitésLab's person
        "unknown": uuid.uuid4,
        "malformed": lambda: "1 OR 1=1",
    }[previous]()

    response, before = post_reorientation(reorientation, value)

    assert response.status_code == 404
    assert nothing_changed(before)


def test_opening_the_form_on_an_open_referral_explains_and_leaves_it_out(reorientation):
    open_one = ReferralFactory(holder=reorientation.holder, to_organisation=OrganisationFactory())

    response = reorientation.page("advisor").get(form_url(reorientation.holder, open_one.uuid))

    assert response.status_code == 400
    page = response.content.decode()
    assert "L&#x27;orientation précédente est encore en cours (Envoyée)" in page
    assert f'value="{open_one.uuid}"' not in page
    assert response.context["form"]["motive"].value() is None


def test_the_form_of_another_citeslabs_referral_is_not_found(reorientation):
    theirs = ReferralFactory(declined=True)

    response = reorientation.page("advisor").get(form_url(reorientation.holder, theirs.uuid))

    assert response.status_code == 404


# --- the chain on the pages ---------------------------------------------------------------------


def chain_of(response) -> tuple[list, list]:
    chain = response.context["chain"]
    return [r.uuid for r in chain.earlier], [r.uuid for r in chain.later]


def test_the_sender_sees_the_previous_referral_on_the_new_one_and_the_next_on_the_old_one(reorientation):
    client = reorientation.page("advisor")

    on_new = client.get(page_url(reorientation.new))
    on_old = client.get(page_url(reorientation.old))

    assert chain_of(on_new) == ([reorientation.old.uuid], [])
    assert chain_of(on_old) == ([], [reorientation.new.uuid])
    assert page_url(reorientation.old) in on_new.content.decode() and "ADIE Aube" in on_new.content.decode()
    assert page_url(reorientation.new) in on_old.content.decode() and "BGE Champagne" in on_old.content.decode()


def test_the_new_partner_never_learns_of_the_referral_to_the_previous_partner(reorientation):
    response = reorientation.page("new_receiver").get(page_url(reorientation.new))

    page = response.content.decode()
    assert chain_of(response) == ([], [])
    assert "Awa Tressard" in page  # it is the new referral's partner
    assert "ADIE Aube" not in page and str(reorientation.old.uuid) not in page
    assert 'id="chain"' not in page


def test_the_old_partner_never_learns_of_the_referral_that_followed(reorientation):
    response = reorientation.page("old_receiver").get(page_url(reorientation.old))

    page = response.content.decode()
    assert chain_of(response) == ([], [])
    assert "BGE Champagne" not in page and str(reorientation.new.uuid) not in page
    assert 'id="chain"' not in page


def test_the_coordinator_sees_the_chain_as_organisations_statuses_and_dates(reorientation):
    response = reorientation.page("coordinator").get(page_url(reorientation.new))

    page = response.content.decode()
    assert chain_of(response) == ([reorientation.old.uuid], [])
    assert "ADIE Aube" in page and "Refusée" in page
    assert "Awa Tressard" not in page and NEW_MOTIVE.replace("'", "&#x27;") not in page


def test_a_partner_sees_the_links_between_its_own_referrals_only(reorientation):
    """BGE declined first, ADIE second, BGE again third: BGE's third referral names ADIE's, so BGE
    sees no link at all; a direct re-referral to BGE after BGE's own refusal is BGE's to see."""
    holder = ProjectHolderFactory(organisation=reorientation.citeslab, actor=reorientation.users["advisor"])
    first = decline(ReferralFactory(holder=holder, to_organisation=reorientation.bge))
    second = decline(reorient(first, reorientation.adie))
    third = reorient(second, reorientation.bge)
    bge = reorientation.page("new_receiver")

    on_third, on_first = bge.get(page_url(third)), bge.get(page_url(first))

    assert chain_of(on_third) == ([], []) and chain_of(on_first) == ([], [])
    for response in (on_third, on_first):
        assert str(second.uuid) not in response.content.decode()
    again = reorient(decline(third), reorientation.bge)
    assert chain_of(bge.get(page_url(again))) == ([third.uuid], [])
    assert chain_of(bge.get(page_url(third))) == ([], [again.uuid])
    advisor_view = reorientation.page("advisor").get(page_url(again))
    assert chain_of(advisor_view) == ([third.uuid, second.uuid, first.uuid], [])


def test_the_referral_page_query_count_does_not_grow_with_the_chain(
    reorientation, count_queries, django_assert_num_queries
):
    def chain(length):
        referral = decline(ReferralFactory(holder=reorientation.holder, to_organisation=OrganisationFactory()))
        first = referral
        for _ in range(length - 1):
            referral = decline(reorient(referral, OrganisationFactory()))
        return first, referral

    short_first, short_last = chain(2)
    long_first, long_last = chain(6)
    for role in ("advisor", "coordinator"):
        client = reorientation.page(role)
        for short, long in ((short_first, long_first), (short_last, long_last)):
            few = count_queries(client, page_url(short))
            with django_assert_num_queries(few):
                response = client.get(page_url(long))
            earlier, later = chain_of(response)
            assert len(earlier) + len(later) == 5


# --- the API ------------------------------------------------------------------------------------

# What ``GET /api/v1/referrals/<new>/`` answers to each role, and its ``previous``.
API_NEW = {
    "advisor": (200, "old"),
    "other_citeslab": (404, None),
    "old_receiver": (404, None),
    "new_receiver": (200, None),
    "unrelated": (404, None),
    "coordinator": (200, "old"),
}


@pytest.mark.parametrize("role", ROLES)
def test_the_api_shows_the_previous_link_to_the_sender_and_the_coordinator_only(reorientation, role):
    response = reorientation.api(role).get(f"/api/v1/referrals/{reorientation.new.uuid}/")

    status, previous = API_NEW[role]
    assert response.status_code == status
    if status == 200:
        assert response.json()["previous"] == (str(reorientation.old.uuid) if previous else None)


@pytest.mark.parametrize("path", ["/api/v1/referrals/", "/api/v1/referrals/{new}/"])
def test_the_new_partner_reads_nothing_of_the_previous_partner_in_the_api(reorientation, path):
    text = reorientation.api("new_receiver").get(path.format(new=reorientation.new.uuid)).content.decode()

    assert str(reorientation.new.uuid) in text
    assert "ADIE Aube" not in text and str(reorientation.old.uuid) not in text


def test_the_old_partner_reads_nothing_of_the_next_referral_in_the_api(reorientation):
    text = reorientation.api("old_receiver").get("/api/v1/referrals/").content.decode()

    assert str(reorientation.old.uuid) in text
    assert "BGE Champagne" not in text and str(reorientation.new.uuid) not in text


def api_send(reorientation, previous, role="advisor"):
    cma = reorientation.cma
    ConsentFactory(holder=reorientation.holder, scope_kinds=(), scope_organisations=[cma])
    before = counts()
    response = reorientation.api(role).post(
        "/api/v1/referrals/",
        data=json.dumps(
            {
                "project_holder": str(reorientation.holder.uuid),
                "to_organisation": cma.pk,
                "motive": "Immatriculation",
                "previous": str(previous),
            }
        ),
        content_type="application/json",
    )
    return response, before


def test_the_api_sends_a_reorientation(reorientation):
    response, _ = api_send(reorientation, reorientation.old.uuid)

    assert response.status_code == 201
    assert response.json()["previous"] == str(reorientation.old.uuid)
    assert Referral.objects.get(uuid=response.json()["uuid"]).previous == reorientation.old


def test_the_api_refuses_an_open_previous_referral_and_changes_nothing(reorientation):
    response, before = api_send(reorientation, reorientation.new.uuid)  # sent, not answered yet

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_previous" and response.json()["field"] == "previous"
    assert "encore en cours" in response.json()["detail"]
    assert nothing_changed(before)


@pytest.mark.parametrize("previous", ["other_citeslab", "unknown"])
def test_the_api_refuses_a_previous_referral_it_does_not_show_and_changes_nothing(reorientation, previous):
    value = ReferralFactory(declined=True).uuid if previous == "other_citeslab" else uuid.uuid4()

    response, before = api_send(reorientation, value)

    assert response.status_code == 400
    assert "previous" in response.json()
    assert nothing_changed(before)


# --- the service --------------------------------------------------------------------------------


def test_the_service_refuses_a_previous_referral_another_citeslab_sent():
    theirs = ReferralFactory(declined=True)
    holder = ProjectHolderFactory()
    to = OrganisationFactory()
    ConsentFactory(holder=holder, scope_kinds=(), scope_organisations=[to])
    before = counts()

    with pytest.raises(ValidationFailed, match="envoyée par votre structure") as error:
        services.referral_send(
            holder=holder,
            actor=holder.created_by,
            organisation=holder.created_by_organisation,
            to_organisation=to,
            motive="Immatriculation",
            previous=theirs,
        )
    assert error.value.code == "invalid_previous"
    assert nothing_changed(before)

import datetime

import pytest
from django.utils import timezone
from pytest_django.asserts import assertContains

from referrals import services
from referrals.models import Activity, Consent, ProjectHolder, Referral
from tests.html_elements import parse
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, ServiceFactory, member_of
from tests.referrals.factories import ConsentFactory, ProjectHolderFactory, ReferralFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]


@pytest.fixture
def citeslab():
    return OrganisationFactory(citeslab=True, name="CitésLab Test")


@pytest.fixture
def advisor(citeslab, client):
    user = member_of(citeslab, first_name="Camille", last_name="Martin")
    client.force_login(user)
    return user


def holder_data(**overrides):
    neighbourhood = NeighbourhoodFactory(name="Les Chartreux")
    data = {
        "first_name": "Amina",
        "last_name": "Diallo",
        "email": "amina@example.org",
        "phone": "",
        "neighbourhood": neighbourhood.pk,
        "situation": "job_seeker",
        "stage": "idea",
        "project_summary": "Un food truck",
        "consent_given": "on",
        "consent-method": "oral",
        "consent-scope_kinds": ["creation"],
        "consent-expires_at": (timezone.localdate() + datetime.timedelta(days=200)).isoformat(),
        "consent-purpose": "Orientation",
    }
    data.update(overrides)
    return data


# --- holder list ------------------------------------------------------------------------------


def test_holder_list_query_count_does_not_grow_with_rows(
    client, advisor, citeslab, count_queries, django_assert_num_queries
):
    holders = [ProjectHolderFactory(organisation=citeslab, actor=advisor) for _ in range(2)]
    ReferralFactory(holder=holders[0])
    few = count_queries(client, "/porteurs/")
    for _ in range(10):
        ReferralFactory(holder=ProjectHolderFactory(organisation=citeslab, actor=advisor))

    with django_assert_num_queries(few):
        response = client.get("/porteurs/")

    assert len(response.context["page"]) == 12


def test_holder_list_shows_only_own_holders_and_searches(client, advisor, citeslab):
    ProjectHolderFactory(organisation=citeslab, actor=advisor, first_name="Amina", last_name="Diallo")
    ProjectHolderFactory(organisation=citeslab, actor=advisor, first_name="Lucas", last_name="Bonnet")
    ProjectHolderFactory(first_name="Amina", last_name="Ailleurs")  # another CitésLab's

    page = client.get("/porteurs/").content.decode()
    assert "Amina Diallo" in page and "Lucas Bonnet" in page and "Ailleurs" not in page

    page = client.get("/porteurs/", {"q": "diallo"}).content.decode()
    assert "Amina Diallo" in page and "Lucas Bonnet" not in page
    assert "1 résultat pour « diallo »" in page


# --- new holder with consent --------------------------------------------------------------------


def test_new_holder_with_consent_is_recorded(client, advisor, citeslab):
    response = client.post("/porteurs/nouveau/", holder_data())

    holder = ProjectHolder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/porteurs/{holder.uuid}/"
    assert holder.created_by_organisation == citeslab and holder.created_by == advisor
    consent = holder.consents.get()
    assert consent.method == Consent.Method.ORAL
    assert consent.scope_kinds == ["creation"]
    assert timezone.localdate(consent.expires_at) == timezone.localdate() + datetime.timedelta(days=200)


def test_new_holder_consent_scope_can_name_partners(client, advisor):
    bge = OrganisationFactory(name="BGE")
    client.post(
        "/porteurs/nouveau/", holder_data(**{"consent-scope_kinds": [], "consent-scope_organisations": [bge.pk]})
    )

    assert list(ProjectHolder.objects.get().consents.get().scope_organisations.all()) == [bge]


def test_new_holder_errors_are_explained_and_typed_values_kept(client, advisor):
    response = client.post(
        "/porteurs/nouveau/", holder_data(email="", phone="", **{"consent-scope_kinds": []}, first_name="Amina")
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert page.count("Le formulaire contient des erreurs") == 1
    assert "Indiquez au moins un moyen de contact" in page
    assert "Précisez à quels partenaires la personne accepte d&#x27;être orientée." in page
    assert 'value="Amina"' in page
    assert "Un food truck" in page
    assert not ProjectHolder.objects.exists()


def test_new_holder_with_an_invalid_consent_writes_nothing(client, advisor):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    response = client.post("/porteurs/nouveau/", holder_data(**{"consent-expires_at": yesterday.isoformat()}))

    assert response.status_code == 400
    assert "La date d&#x27;expiration doit être dans le futur." in response.content.decode()
    assert not ProjectHolder.objects.exists()


def test_new_holder_without_consent(client, advisor):
    data = holder_data(**{"consent-scope_kinds": []})
    del data["consent_given"]

    response = client.post("/porteurs/nouveau/", data)

    assert response.status_code == 302
    assert not ProjectHolder.objects.get().consents.exists()


def test_new_holder_form_asks_gender_and_age_bracket_optionally_and_says_why(client, advisor):
    form_page = client.get("/porteurs/nouveau/").content.decode()
    assert "Genre" in form_page and "Tranche d&#x27;âge" in form_page
    assert "statistiques du programme CitésLab" in form_page and "Facultatif" in form_page
    assert "naissance" not in form_page

    amina = holder_data(gender="female", age_bracket="under_26")
    client.post("/porteurs/nouveau/", amina)
    client.post(
        "/porteurs/nouveau/",
        amina | {"first_name": "Karim", "email": "karim@example.org", "gender": "", "age_bracket": ""},
    )

    recorded = dict(ProjectHolder.objects.values_list("first_name", "gender"))
    assert recorded == {"Amina": "female", "Karim": ""}
    amina = ProjectHolder.objects.get(first_name="Amina")
    assert amina.age_bracket == "under_26"
    page = client.get(f"/porteurs/{amina.uuid}/").content.decode()
    assert "Femme" in page and "Moins de 26 ans" in page


def test_new_holder_with_an_unknown_gender_is_refused(client, advisor):
    response = client.post("/porteurs/nouveau/", holder_data(gender="x"))

    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not ProjectHolder.objects.exists()


def test_partner_staff_cannot_record_holders(client):
    client.force_login(member_of(OrganisationFactory()))

    assert client.post("/porteurs/nouveau/", holder_data()).status_code == 403
    assert not ProjectHolder.objects.exists()


# --- holder page, consents ----------------------------------------------------------------------


def test_holder_page_shows_consents_referrals_and_activities(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    referral = ReferralFactory(holder=holder, to_organisation=OrganisationFactory(name="BGE Champagne"))
    from referrals.services import activity_record

    activity_record(
        actor=advisor,
        organisation=citeslab,
        kind="forum",
        date=timezone.localdate(),
        attendee_count=3,
        project_holders=[holder],
    )

    page = client.get(f"/porteurs/{holder.uuid}/").content.decode()

    assert "BGE Champagne" in page
    assert f"/orientations/{referral.uuid}/" in page
    assert "non lu" in page
    assert "Forum" in page
    assert "Actif" in page


def test_the_holder_page_leaves_out_deleted_activities(client, advisor, citeslab):
    from referrals.services import activity_delete, activity_record

    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    kept, deleted = (
        activity_record(
            actor=advisor, organisation=citeslab, kind=kind, date=timezone.localdate(), project_holders=[holder]
        )
        for kind in ("forum", "drop_in")
    )
    activity_delete(activity=deleted, actor=advisor, organisation=citeslab)

    response = client.get(f"/porteurs/{holder.uuid}/")

    assert list(response.context["activities"]) == [kept]
    assert "Permanence" not in response.content.decode()


def test_holder_of_another_citeslab_is_not_found(client, advisor):
    other = ProjectHolderFactory()

    assert client.get(f"/porteurs/{other.uuid}/").status_code == 404
    assert client.get(f"/porteurs/{other.uuid}/orienter/").status_code == 404


def test_withdrawing_a_consent_cancels_its_open_referrals(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    referral = ReferralFactory(holder=holder)

    response = client.post(
        f"/porteurs/{holder.uuid}/consentements/{referral.consent_id}/retrait/", {"reason": "Ne souhaite plus"}
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.CANCELLED
    assert referral.consent.withdrawn_at is not None


def test_withdrawing_twice_is_explained(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    consent = ConsentFactory(holder=holder)
    client.post(f"/porteurs/{holder.uuid}/consentements/{consent.pk}/retrait/")

    response = client.post(f"/porteurs/{holder.uuid}/consentements/{consent.pk}/retrait/")

    assert response.status_code == 400
    assert "déjà été retiré" in response.content.decode()


def test_a_new_consent_is_collected_on_its_own_page_linked_from_the_holder_page(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    url = f"/porteurs/{holder.uuid}/consentements/"
    data = {k: v for k, v in holder_data().items() if k.startswith("consent-")}

    assert f'href="{url}"' in client.get(f"/porteurs/{holder.uuid}/").content.decode()
    form = client.get(url)
    response = client.post(url, data)

    assert form.status_code == 200 and 'name="consent-purpose"' in form.content.decode()
    assert response.status_code == 302 and response["Location"] == f"/porteurs/{holder.uuid}/"
    assert holder.consents.count() == 1


def test_a_consent_with_bad_input_shows_its_page_again_with_why_and_records_nothing(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    data = {k: v for k, v in holder_data().items() if k.startswith("consent-")} | {"consent-expires_at": "2001-01-01"}

    response = client.post(f"/porteurs/{holder.uuid}/consentements/", data)

    assert response.status_code == 400
    assert "La date d&#x27;expiration doit être dans le futur." in response.content.decode()
    assert 'href="#id_consent-expires_at"' in response.content.decode()
    assert holder.consents.count() == 0


def test_an_erased_persons_consent_page_says_so_and_offers_no_form(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    services.project_holder_erase(holder=holder, actor=advisor, organisation=citeslab)

    page = client.get(f"/porteurs/{holder.uuid}/consentements/").content.decode()

    assert "ont été effacées le" in page and 'name="consent-purpose"' not in page


# --- new referral -------------------------------------------------------------------------------


def test_referral_form_shows_which_partners_the_consent_covers(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    bge = OrganisationFactory(name="BGE Champagne")
    OrganisationFactory(employment=True, name="France Travail")
    ConsentFactory(holder=holder, scope_kinds=(), scope_organisations=[bge])

    response = client.get(f"/porteurs/{holder.uuid}/orienter/")
    page = response.content.decode()

    covered = (
        f'<option value="{bge.pk}" data-covered="1" data-name="BGE Champagne">'
        f"BGE Champagne — {bge.get_kind_display()} (consentement : oui)</option>"
    )
    assertContains(response, covered, html=True)
    assert "✓ couvert — BGE Champagne" in page
    assert "✗ non couvert — France Travail" in page


def test_consent_check_before_sending_sends_nothing(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    partner = OrganisationFactory(employment=True, name="France Travail")
    ConsentFactory(holder=holder, scope_kinds=("creation",))

    response = client.post(
        f"/porteurs/{holder.uuid}/orienter/", {"to_organisation": partner.pk, "motive": "Emploi", "action": "check"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "ne couvre pas France Travail" in page
    assert not Referral.objects.exists()


def test_sending_a_referral_with_a_service(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    bge = OrganisationFactory(name="BGE Champagne")
    service = ServiceFactory(organisation=bge, name="Couveuse")
    ConsentFactory(holder=holder)

    response = client.post(
        f"/porteurs/{holder.uuid}/orienter/",
        {"to_organisation": bge.pk, "service": service.pk, "motive": "Montage du projet", "action": "send"},
    )

    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orientations/{referral.uuid}/"
    assert (referral.to_organisation, referral.service, referral.motive) == (bge, service, "Montage du projet")


def test_sending_without_consent_is_refused_with_the_reason_and_keeps_the_motive(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor, first_name="Amina", last_name="Diallo")
    bge = OrganisationFactory(name="BGE Champagne")

    response = client.post(
        f"/porteurs/{holder.uuid}/orienter/", {"to_organisation": bge.pk, "motive": "Mon motif", "action": "send"}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "Amina Diallo n&#x27;a donné aucun consentement" in page
    assert "Mon motif" in page
    assert not Referral.objects.exists()


def test_service_of_another_partner_is_refused(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    bge, adie = OrganisationFactory(), OrganisationFactory()
    ConsentFactory(holder=holder)

    response = client.post(
        f"/porteurs/{holder.uuid}/orienter/",
        {"to_organisation": bge.pk, "service": ServiceFactory(organisation=adie).pk, "motive": "x", "action": "send"},
    )

    assert response.status_code == 400
    assert "pas proposé par le partenaire choisi" in response.content.decode()


def test_missing_partner_and_motive_are_explained(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)

    response = client.post(f"/porteurs/{holder.uuid}/orienter/", {"action": "send"})

    assert response.status_code == 400
    assert response.content.decode().count("Ce champ est obligatoire.") >= 2


# --- sent referrals -----------------------------------------------------------------------------


def test_sent_list_shows_status_and_read_mark(client, advisor, citeslab):
    read = ReferralFactory(holder=ProjectHolderFactory(organisation=citeslab, actor=advisor))
    unread = ReferralFactory(holder=ProjectHolderFactory(organisation=citeslab, actor=advisor), accepted=True)
    from referrals.services import referral_mark_viewed

    referral_mark_viewed(referral=read, actor=read.receiver, organisation=read.to_organisation)

    page = parse(client.get("/orientations/envoyees/").content)

    read_row = page.find("tr", data_referral=read.uuid)
    assert read_row.find("span", class_="badge--read").text == "lu"
    unread_row = page.find("tr", data_referral=unread.uuid)
    assert unread_row.find("span", class_="badge--unread").text == "non lu"
    assert "Acceptée" in unread_row.text


def test_sent_list_query_count_does_not_grow_with_rows(
    client, advisor, citeslab, count_queries, django_assert_num_queries
):
    for _ in range(2):
        ReferralFactory(holder=ProjectHolderFactory(organisation=citeslab, actor=advisor))
    few = count_queries(client, "/orientations/envoyees/")
    for _ in range(10):
        ReferralFactory(holder=ProjectHolderFactory(organisation=citeslab, actor=advisor), accepted=True)

    with django_assert_num_queries(few):
        response = client.get("/orientations/envoyees/")

    assert len(response.context["page"]) == 12


# --- activities ---------------------------------------------------------------------------------


def test_recording_an_intake_activity(client, advisor, citeslab):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    adie = OrganisationFactory(name="ADIE")

    response = client.post(
        "/actions/nouvelle/",
        {
            "kind": "forum",
            "date": timezone.localdate().isoformat(),
            "attendee_count": 12,
            "project_holders": [holder.pk],
            "partner_organisations": [adie.pk],
            "notes": "Forum de l'entrepreneuriat",
        },
    )

    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.kind, activity.attendee_count, activity.organisation) == ("forum", 12, citeslab)
    assert list(activity.project_holders.all()) == [holder]
    assert list(activity.partner_organisations.all()) == [adie]


def test_the_activities_list_counts_the_people_and_names_the_partners_of_each_row(client, advisor, citeslab):
    from referrals.services import activity_record

    people = [ProjectHolderFactory(organisation=citeslab, actor=advisor) for _ in range(3)]
    adie, bge = OrganisationFactory(name="ADIE"), OrganisationFactory(name="BGE")
    activity_record(
        actor=advisor,
        organisation=citeslab,
        kind="collective_session",
        date=timezone.localdate(),
        attendee_count=8,
        project_holders=people,
        partner_organisations=[bge, adie],
    )
    activity_record(actor=advisor, organisation=citeslab, kind="forum", date=timezone.localdate())

    response = client.get("/actions/")

    rows = {row.kind: row for row in response.context["page"]}
    assert (rows["collective_session"].holder_count, rows["forum"].holder_count) == (3, 0)
    html = response.content.decode()
    assert '<td data-label="Porteurs liés">3</td>' in html
    assert "ADIE, BGE" in html


def test_the_activity_form_offers_the_latest_people_and_keeps_any_followed_one(client, advisor, citeslab, monkeypatch):
    monkeypatch.setattr("referrals.forms.RECENT_HOLDER_CHOICES", 2)
    oldest, middle, newest = (
        ProjectHolderFactory(organisation=citeslab, actor=advisor, first_name=name) for name in ("Ada", "Bea", "Cyd")
    )
    ProjectHolderFactory(first_name="Dan")  # another CitésLab's

    offered = client.get("/actions/nouvelle/").context["form"]["project_holders"]
    assert [choice.data["label"] for choice in offered.subwidgets] == [str(newest), str(middle)]

    refused = client.post(
        "/actions/nouvelle/", {"kind": "forum", "date": "x", "attendee_count": 1, "project_holders": [oldest.pk]}
    )
    kept = refused.context["form"]["project_holders"]
    assert [choice.data["label"] for choice in kept.subwidgets] == [str(newest), str(middle), str(oldest)]
    recorded = client.post(
        "/actions/nouvelle/",
        {
            "kind": "forum",
            "date": timezone.localdate().isoformat(),
            "attendee_count": 1,
            "project_holders": [oldest.pk],
        },
    )
    assert recorded.status_code == 302
    assert list(Activity.objects.get().project_holders.all()) == [oldest]


def test_activity_in_the_future_is_refused_and_input_kept(client, advisor):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = client.post(
        "/actions/nouvelle/", {"kind": "forum", "date": tomorrow.isoformat(), "attendee_count": 4, "notes": "Mes notes"}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "ne peut pas être datée dans le futur" in page
    assert "Mes notes" in page
    assert not Activity.objects.exists()


def test_activity_list_query_count_does_not_grow_with_rows(
    client, advisor, citeslab, count_queries, django_assert_num_queries
):
    from referrals.services import activity_record

    partner = OrganisationFactory()

    def record():
        activity_record(
            actor=advisor,
            organisation=citeslab,
            kind="forum",
            date=timezone.localdate(),
            attendee_count=2,
            project_holders=[ProjectHolderFactory(organisation=citeslab, actor=advisor)],
            partner_organisations=[partner],
        )

    for _ in range(2):
        record()
    few = count_queries(client, "/actions/")
    for _ in range(10):
        record()

    with django_assert_num_queries(few):
        response = client.get("/actions/")

    assert len(response.context["page"]) == 12


def test_the_activities_list_links_to_the_form_on_its_own_page(client, advisor, citeslab):
    """The list shows no form (its hundred people and every partner were most of its time); the
    form's page records and comes back to the list."""
    listed = client.get("/actions/")
    form_page = client.get("/actions/nouvelle/")

    assert "form" not in listed.context and 'href="/actions/nouvelle/"' in listed.content.decode()
    assert form_page.status_code == 200 and "project_holders" in form_page.context["form"].fields
    recorded = client.post(
        "/actions/nouvelle/", {"kind": "forum", "date": timezone.localdate().isoformat(), "attendee_count": 3}
    )
    assert recorded.status_code == 302 and recorded["Location"] == "/actions/"
    assert "L&#x27;action d&#x27;accueil est enregistrée." in client.get("/actions/").content.decode()


def test_activity_form_query_count_does_not_grow_with_people_or_partners(
    client, advisor, citeslab, count_queries, django_assert_num_queries
):
    for _ in range(2):
        ProjectHolderFactory(organisation=citeslab, actor=advisor)
        OrganisationFactory()
    few = count_queries(client, "/actions/nouvelle/")
    for _ in range(8):
        ProjectHolderFactory(organisation=citeslab, actor=advisor)
        OrganisationFactory()

    with django_assert_num_queries(few):
        response = client.get("/actions/nouvelle/")

    assert len(response.context["form"]["project_holders"].subwidgets) == 10


def test_holder_page_query_count_does_not_grow_with_referrals(
    client, advisor, citeslab, count_queries, django_assert_num_queries
):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    for _ in range(2):
        ReferralFactory(holder=holder)
    few = count_queries(client, f"/porteurs/{holder.uuid}/")
    for _ in range(4):
        ReferralFactory(holder=holder, accepted=True)

    with django_assert_num_queries(few):
        response = client.get(f"/porteurs/{holder.uuid}/")

    assert len(response.context["referrals"]) == 6


# --- changing and deleting an activity -----------------------------------------------------------


def _activity(advisor, citeslab, **kwargs):
    from referrals.services import activity_record

    kwargs.setdefault("attendee_count", 10)
    return activity_record(
        actor=advisor, organisation=citeslab, kind="collective_session", date=timezone.localdate(), **kwargs
    )


def test_the_list_offers_to_change_or_delete_each_activity_and_counts_new_people(client, advisor, citeslab):
    people = [ProjectHolderFactory(organisation=citeslab, actor=advisor) for _ in range(3)]
    _activity(advisor, citeslab, project_holders=people[:1])
    activity = _activity(advisor, citeslab, project_holders=people)

    html = client.get("/actions/").content.decode()

    assert f'href="/actions/{activity.pk}/modifier/"' in html and f'href="/actions/{activity.pk}/supprimer/"' in html
    assert '<td data-label="Porteurs liés">3</td>' in html
    assert '<td data-label="dont nouveaux">2</td>' in html  # the first person was met before


def test_changing_an_activity_shows_its_values_and_its_marks_then_records_the_change(client, advisor, citeslab):
    people = [ProjectHolderFactory(organisation=citeslab, actor=advisor) for _ in range(2)]
    activity = _activity(advisor, citeslab, project_holders=people, notes="Avant")

    form = client.get(f"/actions/{activity.pk}/modifier/").context["form"]
    assert form["attendee_count"].value() == 10 and form["notes"].value() == "Avant"
    assert sorted(form["project_holders"].value()) == sorted(p.pk for p in people)
    assert sorted(form["new_holders"].value()) == sorted(str(p.pk) for p in people)

    response = client.post(
        f"/actions/{activity.pk}/modifier/",
        {
            "kind": "collective_session",
            "date": timezone.localdate().isoformat(),
            "attendee_count": 12,
            "project_holders": [p.pk for p in people],
            "new_holders": [people[1].pk],  # the first one was met before Relais
            "notes": "Après",
        },
    )

    assert response.status_code == 302 and response["Location"] == "/actions/"
    activity.refresh_from_db()
    assert (activity.attendee_count, activity.notes) == (12, "Après")
    marks = dict(activity.attendees.values_list("project_holder_id", "is_new"))
    assert marks == {people[0].pk: False, people[1].pk: True}
    page = client.get(f"/actions/{activity.pk}/modifier/").content.decode()
    assert "Historique des modifications" in page and "Modifiée" in page
    assert "nombre de participants" in page and "porteurs de projet" in page


def test_a_refused_change_keeps_what_was_typed_and_changes_nothing(client, advisor, citeslab):
    activity = _activity(advisor, citeslab)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = client.post(
        f"/actions/{activity.pk}/modifier/",
        {"kind": "forum", "date": tomorrow.isoformat(), "attendee_count": 4, "notes": "Mes notes"},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "ne peut pas être datée dans le futur" in page and "Mes notes" in page
    activity.refresh_from_db()
    assert (activity.kind, activity.attendee_count, activity.revisions.count()) == ("collective_session", 10, 1)


def test_an_erased_person_already_linked_stays_offered_on_the_change_form(client, advisor, citeslab):
    from referrals.services import project_holder_erase

    person = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    activity = _activity(advisor, citeslab, project_holders=[person])
    project_holder_erase(holder=person, actor=advisor, organisation=citeslab)

    form = client.get(f"/actions/{activity.pk}/modifier/").context["form"]
    assert [c.data["label"] for c in form["project_holders"].subwidgets] == ["Porteur anonymisé"]
    response = client.post(
        f"/actions/{activity.pk}/modifier/",
        {
            "kind": "collective_session",
            "date": timezone.localdate().isoformat(),
            "attendee_count": 11,
            "project_holders": [person.pk],
            "new_holders": [person.pk],
        },
    )

    assert response.status_code == 302
    assert list(activity.project_holders.all()) == [person]


def test_deleting_asks_for_confirmation_then_removes_the_activity_from_the_list(client, advisor, citeslab):
    activity = _activity(advisor, citeslab)

    confirmation = client.get(f"/actions/{activity.pk}/supprimer/")
    assert confirmation.status_code == 200
    assert "son historique est conservé" in confirmation.content.decode()
    Activity.objects.get(pk=activity.pk, deleted_at=None)

    response = client.post(f"/actions/{activity.pk}/supprimer/")

    assert response.status_code == 302 and response["Location"] == "/actions/"
    listed = client.get("/actions/")
    assert list(listed.context["page"]) == []
    assert "L&#x27;action d&#x27;accueil est supprimée." in listed.content.decode()
    assert Activity.objects.get(pk=activity.pk).deleted_at is not None
    assert client.get(f"/actions/{activity.pk}/modifier/").status_code == 404
    assert client.post(f"/actions/{activity.pk}/supprimer/").status_code == 404


def test_another_citeslabs_activity_is_not_found(client, advisor):
    elsewhere = OrganisationFactory(citeslab=True)
    activity = _activity(member_of(elsewhere), elsewhere)

    for url in (f"/actions/{activity.pk}/modifier/", f"/actions/{activity.pk}/supprimer/"):
        assert client.get(url).status_code == 404
        assert client.post(url, {"kind": "forum"}).status_code == 404
    activity.refresh_from_db()
    assert (activity.deleted_at, activity.kind) == (None, "collective_session")


def test_the_change_form_query_count_does_not_grow_with_people_or_history(
    client, advisor, citeslab, count_queries, django_assert_num_queries
):
    from referrals.services import activity_update

    people = [ProjectHolderFactory(organisation=citeslab, actor=advisor) for _ in range(10)]
    activity = _activity(advisor, citeslab, project_holders=people[:2], partner_organisations=[OrganisationFactory()])
    few = count_queries(client, f"/actions/{activity.pk}/modifier/")
    activity_update(
        activity=activity,
        actor=advisor,
        organisation=citeslab,
        project_holders=people,
        partner_organisations=[OrganisationFactory(), OrganisationFactory()],
    )
    for count in (11, 12, 13):
        activity_update(activity=activity, actor=advisor, organisation=citeslab, attendee_count=count)

    with django_assert_num_queries(few):
        response = client.get(f"/actions/{activity.pk}/modifier/")

    assert len(response.context["form"]["new_holders"].subwidgets) == 10
    assert len(response.context["revisions"]) == 5


def test_the_activities_list_counts_a_recorded_or_deleted_activity_at_once(client, advisor, citeslab, settings):
    """The page's count is kept until an activity changes (``activities_version``), not a minute."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    def record():
        return services.activity_record(actor=advisor, organisation=citeslab, kind="forum", date=timezone.localdate())

    activities = [record() for _ in range(25)]
    assert client.get("/actions/").context["page"].paginator.count == 25

    record()
    assert client.get("/actions/").context["page"].paginator.count == 26
    services.activity_delete(activity=activities[0], actor=advisor, organisation=citeslab)
    services.activity_delete(activity=activities[1], actor=advisor, organisation=citeslab)
    listed = client.get("/actions/")

    assert listed.context["page"].paginator.count == 24
    assert [a.kind_label for a in listed.context["page"]] == ["Forum"] * 24

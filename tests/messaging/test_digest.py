"""The coordinators' weekly digest (messaging/digest.py, ``manage.py referrals_digest``)."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from messaging.digest import digest_figures
from messaging.services import email_preferences_set, note_post
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

SENT_AT = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)
PERSONAL = ("porteur", "food truck", "Besoin d'un accompagnement")


def at(moment):
    return time_machine.travel(moment, tick=False)


def digest(*args) -> str:
    out = io.StringIO()
    call_command("referrals_digest", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def coordination():
    return OrganisationFactory(coordination=True, name="Politique de la Ville")


@pytest.fixture
def coordinator(coordination):
    return member_of(coordination, first_name="Claire", last_name="Coordination")


@pytest.fixture
def bge():
    return OrganisationFactory(name="BGE Champagne", sla_days=10, follow_up_days=30)


def test_nothing_to_chase_sends_nothing(coordinator, bge, mailoutbox):
    with at(SENT_AT):
        ReferralFactory(to_organisation=bge)  # within its SLA
        ReferralFactory(to_organisation=bge, completed=True)

    with at(SENT_AT + 10 * DAY - SECOND):
        output = digest()

    assert output == "Aucune orientation en retard ni sans suite : aucune synthèse envoyée.\n"
    assert mailoutbox == []


def test_an_overdue_referral_is_in_the_digest_from_its_sla(coordinator, bge, mailoutbox, settings):
    settings.SITE_URL = "https://relais.example.fr/"
    with at(SENT_AT):
        late = ReferralFactory(to_organisation=bge)

    with at(SENT_AT + 10 * DAY):
        output = digest()

    assert "BGE Champagne : 1 en retard, 0 sans suite" in output
    assert "Synthèse envoyée à 1 destinataire(s)." in output
    (mail,) = mailoutbox
    assert mail.to == [coordinator.email]
    assert mail.subject == "Relais : 1 orientation(s) en retard, 0 sans suite"
    assert mail.body.startswith("Bonjour Claire Coordination,\n\nLa synthèse hebdomadaire du réseau au 12/03/2026.")
    assert (
        f"- sans réponse : envoyée le 02/03/2026 par {late.from_organisation.name}, 10 jours d'attente — "
        f"https://relais.example.fr/orientations/{late.uuid}/"
    ) in mail.body
    assert "Toutes les orientations en retard et sans suite : https://relais.example.fr/pilotage/" in mail.body
    assert not any(word in mail.body for word in (*PERSONAL, late.project_holder.last_name))


def test_a_stalled_referral_is_in_the_digest_from_twice_the_follow_up_time(coordinator, bge, mailoutbox):
    with at(SENT_AT):
        silent = ReferralFactory(to_organisation=bge, accepted=True)

    with at(SENT_AT + 60 * DAY - SECOND):
        assert digest("--dry-run") == ("Aucune orientation en retard ni sans suite : aucune synthèse envoyée.\n")
    with at(SENT_AT + 60 * DAY):
        output = digest()

    assert "BGE Champagne : 0 en retard, 1 sans suite" in output
    (mail,) = mailoutbox
    assert (
        f"- sans suite (Acceptée) : de {silent.from_organisation.name}, sans nouvelle depuis le 02/03/2026, "
        f"60 jours — http://127.0.0.1:8000/orientations/{silent.uuid}/"
    ) in mail.body


def test_news_takes_a_referral_off_the_stalled_list(coordinator, bge, mailoutbox):
    with at(SENT_AT):
        referral = ReferralFactory(to_organisation=bge, accepted=True)
    with at(SENT_AT + 50 * DAY):
        note_post(referral=referral, actor=referral.from_user, organisation=referral.from_organisation, body="Alors ?")

    with at(SENT_AT + 60 * DAY):
        assert digest_figures() == []


def test_partners_by_name_with_their_oldest_referrals_and_how_many_more(coordinator, bge, mailoutbox, monkeypatch):
    monkeypatch.setattr("messaging.digest.DIGEST_LINKS_PER_PARTNER", 2)
    adie = OrganisationFactory(name="ADIE", sla_days=5)
    sent = []
    for days in (0, 1, 2):
        with at(SENT_AT + days * DAY):
            sent.append(ReferralFactory(to_organisation=bge))
    with at(SENT_AT):
        ReferralFactory(to_organisation=adie)

    with at(SENT_AT + 20 * DAY):
        partners = digest_figures()
        digest()

    assert [(p.name, p.overdue_count, p.stalled_count) for p in partners] == [("ADIE", 1, 0), ("BGE Champagne", 3, 0)]
    assert [row["uuid"] for row in partners[1].overdue] == [sent[0].uuid, sent[1].uuid]
    body = mailoutbox[0].body
    assert body.index("ADIE : 1 en retard") < body.index("BGE Champagne : 3 en retard")
    assert "  … et 1 autre." in body
    assert str(sent[2].uuid) not in body


def test_the_digest_goes_to_active_coordinators_with_an_email_who_did_not_turn_it_off(coordination, bge, mailoutbox):
    keen = member_of(coordination)
    tired = member_of(coordination)
    member_of(coordination, email="")
    email_preferences_set(user=tired, preferences={"digest.weekly": False})
    member_of(OrganisationFactory(coordination=True, is_active=False))
    with at(SENT_AT):
        referral = ReferralFactory(to_organisation=bge)
    partner_member = referral.receiver

    with at(SENT_AT + 11 * DAY):
        digest()

    assert [m.to for m in mailoutbox] == [[keen.email]]
    assert partner_member.email not in [m.to[0] for m in mailoutbox]


def test_the_dry_run_names_the_partners_and_the_recipients_and_sends_nothing(coordinator, bge, mailoutbox):
    with at(SENT_AT):
        ReferralFactory(to_organisation=bge)

    with at(SENT_AT + 11 * DAY):
        output = digest("--dry-run")

    assert output == "[simulation] BGE Champagne : 1 en retard, 0 sans suite\n[simulation] 1 destinataire(s).\n"
    assert mailoutbox == []


def test_the_figures_take_the_same_queries_whatever_the_rows(coordinator, django_assert_num_queries):
    """The counts of each list by partner, then the oldest rows of each."""
    pairs = 0
    for count in (1, 4):
        with at(SENT_AT):
            for _ in range(count - pairs):
                ReferralFactory(to_organisation=OrganisationFactory())
                ReferralFactory(to_organisation=OrganisationFactory(), accepted=True)
        pairs = count
        with at(SENT_AT + 61 * DAY), django_assert_num_queries(4):
            partners = digest_figures()
        rows = sorted((p.overdue_count, p.stalled_count, len(p.overdue), len(p.stalled)) for p in partners)
        assert rows == [(0, 1, 0, 1)] * count + [(1, 0, 1, 0)] * count

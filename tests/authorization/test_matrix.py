"""Every entry point × every role, one test per cell, with the expected answer written out.

Entry points: every /api/v1/ endpoint (and the open schema pages), every page of
each app's urls.py (the signed links' pages too). The WebSockets have their own matrix in
test_sockets.py.
The roles are ``ROLES`` of tests/worlds.py, in the order of the table's columns.

All the cells of this module share one ``matrix_world``; each runs in a savepoint that is rolled
back, so every cell sees the same world: the ``referral`` still sent, the ``accepted`` one still
accepted, the consent still active, the ``withdrawn`` referral cancelled by its consent's withdrawal.

An answer is the status code, except:
- ``LOGIN``: a redirect to the login page (an anonymous visitor of a page);
- on the rows that watch an object of the world (``watch``: a referral, a person, an activity), a
  200 says what it shows of it: ``PERSON`` (what only the two sides or the person's CitésLab may
  read: the person's name or e-mail, the motive, the notes, an activity's notes), ``FACTS`` (the
  object is there without any of these: a coordinator's view), ``NOTHING`` (the object is not there).
"""

import datetime
import json
import re
from collections import Counter
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.urls import reverse

from messaging.models import Notification
from partners.invitations import invitation_token
from partners.models import Membership
from partners.services.invitations import invitation_create
from partners.services.memberships import membership_deactivate
from referrals.models import Activity, Referral
from tests.partners.factories import member_of
from tests.worlds import ROLES

pytestmark = pytest.mark.django_db

LOGIN = "302 to login"
PERSON = "200 with the person or free texts"
FACTS = "200 with the facts only"
NOTHING = "200 without it"


@dataclass(frozen=True)
class Row:
    method: str
    template: str  # relative to /api/v1/ unless it starts with "/"
    body: str | None  # a key of ``api_bodies`` or ``page_forms``
    answers: tuple  # one per role of ROLES
    watch: str | None = None  # an object of the world whose private texts a 200 is searched for


# fmt: off
#   anonymous, advisor, receiver_staff, unrelated_staff, receiver_admin, coordinator, coordinator_partner, withdrawn_receiver, other_admin
API = [
    Row("POST", "auth/token/", "credentials", (400, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "me/", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "organisations/", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "organisations/{partner}/", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "organisations/{partner}/members/", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("POST", "organisations/{partner}/members/", "new_member", (401, 403, 403, 403, 201, 403, 403, 403, 403)),
    Row("POST", "organisations/{unrelated}/members/", "new_member", (401, 403, 403, 403, 403, 403, 403, 403, 201)),
    Row("GET", "organisations/{partner}/members/{staff_membership}/", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("PATCH", "organisations/{partner}/members/{staff_membership}/", "promote", (401, 403, 403, 403, 200, 403, 403, 403, 403)),
    Row("PATCH", "organisations/{unrelated}/members/{unrelated_membership}/", "promote", (401, 403, 403, 403, 403, 403, 403, 403, 200)),
    Row("GET", "services/", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("POST", "services/", "partner_service", (401, 403, 403, 403, 201, 403, 403, 403, 403)),
    Row("POST", "services/", "unrelated_service", (401, 403, 403, 403, 403, 403, 403, 403, 201)),
    Row("GET", "services/{service}/", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("PATCH", "services/{service}/", "service_change", (401, 403, 403, 403, 200, 403, 403, 403, 403)),
    Row("PATCH", "services/{unrelated_service}/", "service_change", (401, 403, 403, 403, 403, 403, 403, 403, 200)),
    Row("GET", "neighbourhoods/", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "neighbourhoods/{neighbourhood}/", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    # People: the CitésLab that follows them, a receiving partner with a live grant, nobody else.
    Row("GET", "project-holders/", None, (401, PERSON, PERSON, NOTHING, PERSON, NOTHING, PERSON, NOTHING, NOTHING), watch="holder"),
    Row("GET", "project-holders/", None, (401, PERSON, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING), watch="withdrawn_holder"),
    Row("POST", "project-holders/", "new_holder", (401, 201, 403, 403, 403, 403, 403, 403, 403)),
    Row("GET", "project-holders/{holder}/", None, (401, PERSON, PERSON, 404, PERSON, 404, PERSON, 404, 404), watch="holder"),
    Row("PATCH", "project-holders/{holder}/", "holder_change", (401, 200, 403, 404, 403, 404, 403, 404, 404)),
    Row("POST", "project-holders/{holder}/erase/", None, (401, 200, 403, 404, 403, 404, 403, 404, 404)),
    Row("GET", "project-holders/{holder}/consents/", None, (401, 200, 403, 404, 403, 404, 403, 404, 404)),
    Row("POST", "project-holders/{holder}/consents/", "new_consent", (401, 201, 403, 404, 403, 404, 403, 404, 404)),
    Row("POST", "consents/{consent}/withdraw/", "withdrawal", (401, 200, 403, 404, 403, 404, 403, 404, 404)),
    Row("GET", "project-holders/{withdrawn_holder}/", None, (401, PERSON, 404, 404, 404, 404, 404, 404, 404), watch="withdrawn_holder"),
    # Referrals: the two sides; coordinators read the pipeline facts and act on nothing.
    Row("GET", "referrals/", None, (401, PERSON, PERSON, NOTHING, PERSON, FACTS, PERSON, NOTHING, NOTHING), watch="referral"),
    # A holder the caller may not see is an unknown reference in the body: 400, nothing disclosed.
    Row("POST", "referrals/", "new_referral", (401, 201, 400, 400, 400, 400, 400, 400, 400)),
    Row("GET", "referrals/{referral}/", None, (401, PERSON, PERSON, 404, PERSON, FACTS, PERSON, 404, 404), watch="referral"),
    Row("POST", "referrals/{referral}/accept/", None, (401, 403, 200, 404, 200, 403, 200, 404, 404)),
    Row("POST", "referrals/{referral}/decline/", "decline", (401, 403, 200, 404, 200, 403, 200, 404, 404)),
    Row("POST", "referrals/{accepted}/start/", None, (401, 403, 200, 404, 200, 403, 200, 404, 404)),
    Row("POST", "referrals/{accepted}/complete/", "complete", (401, 403, 200, 404, 200, 403, 200, 404, 404)),
    Row("POST", "referrals/{referral}/cancel/", "cancel", (401, 200, 403, 404, 403, 403, 403, 404, 404)),
    Row("GET", "referrals/{referral}/events/", None, (401, 200, 200, 404, 200, 200, 200, 404, 404)),
    Row("GET", "referrals/{referral}/notes/", None, (401, 200, 200, 404, 200, 403, 200, 404, 404)),
    Row("POST", "referrals/{referral}/notes/", "note", (401, 201, 201, 404, 201, 403, 201, 404, 404)),
    # After the consent's withdrawal the receiving partner has no grant left: its members see the
    # referral no more, or only as coordinators (coordinator_partner).
    Row("GET", "referrals/{withdrawn}/", None, (401, PERSON, 404, 404, 404, FACTS, FACTS, 404, 404), watch="withdrawn"),
    Row("POST", "referrals/{withdrawn}/accept/", None, (401, 403, 404, 404, 404, 403, 403, 404, 404)),
    Row("POST", "referrals/{withdrawn}/cancel/", "cancel", (401, 409, 404, 404, 404, 403, 403, 404, 404)),
    Row("GET", "referrals/{withdrawn}/events/", None, (401, 200, 404, 404, 404, 200, 200, 404, 404)),
    Row("GET", "referrals/{withdrawn}/notes/", None, (401, 200, 404, 404, 404, 403, 403, 404, 404)),
    Row("POST", "referrals/{withdrawn}/notes/", "note", (401, 201, 404, 404, 404, 403, 403, 404, 404)),
    Row("GET", "referrals/{withdrawn_elsewhere}/", None, (401, PERSON, 404, 404, 404, FACTS, FACTS, 404, 404), watch="withdrawn_elsewhere"),
    Row("GET", "referrals/", None, (401, PERSON, NOTHING, NOTHING, NOTHING, FACTS, FACTS, NOTHING, NOTHING), watch="withdrawn"),
    Row("GET", "referrals/", None, (401, PERSON, NOTHING, NOTHING, NOTHING, FACTS, FACTS, NOTHING, NOTHING), watch="withdrawn_elsewhere"),
    # Intake activities: their CitésLab's with their notes; the coordinators' without them (a free text).
    Row("GET", "activities/", None, (401, PERSON, NOTHING, NOTHING, NOTHING, FACTS, FACTS, NOTHING, NOTHING), watch="activity"),
    Row("POST", "activities/", "new_activity", (401, 201, 403, 403, 403, 403, 403, 403, 403)),
    # One activity: its CitésLab changes and deletes it; a coordinator reads it (403 to change it).
    Row("GET", "activities/{activity}/", None, (401, PERSON, 404, 404, 404, FACTS, FACTS, 404, 404), watch="activity"),
    Row("PATCH", "activities/{activity}/", "activity_change", (401, 200, 404, 404, 404, 403, 403, 404, 404)),
    Row("DELETE", "activities/{activity}/", None, (401, 204, 404, 404, 404, 403, 403, 404, 404)),
    Row("GET", "pipeline/", None, (401, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING), watch="referral"),
    # Funders' exports: the referrals like the lists (a partner its received ones), the intake
    # activities and the report's tables for a CitésLab and the coordination only. What a file
    # holds is tested in tests/referrals/api/test_reports.py.
    Row("GET", "reports/referrals.csv", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "reports/referrals.xlsx", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "reports/activity.csv", None, (401, 200, 403, 403, 403, 200, 200, 403, 403)),
    Row("GET", "reports/activity.xlsx", None, (401, 200, 403, 403, 403, 200, 200, 403, 403)),
    Row("GET", "reports/summary.xlsx", None, (401, 200, 403, 403, 403, 200, 200, 403, 403)),
    Row("GET", "notifications/", None, (401, PERSON, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING), watch="withdrawn"),
    Row("GET", "notifications/", None, (401, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING), watch="withdrawn_elsewhere"),
    Row("POST", "notifications/read/", "read_all", (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "notifications/email-preferences/", None, (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("PATCH", "notifications/email-preferences/", "preferences", (401, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/api/schema/", None, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/api/docs/", None, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    # The catalogue: public and read-only, the same answer for everyone.
    Row("GET", "catalogue/structures/", None, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "catalogue/services/", None, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("POST", "catalogue/services/", "service_change", (405, 405, 405, 405, 405, 405, 405, 405, 405)),
    # Members and invitations: an organisation's invitations are its admins' business
    # (a member who is not admin 403, anybody else 404, as are its past members).
    Row("GET", "organisations/{partner}/invitations/", None, (401, 404, 403, 404, 200, 404, 403, 404, 404)),
    Row("POST", "organisations/{partner}/invitations/", "invitation", (401, 404, 403, 404, 201, 404, 403, 404, 404)),
    Row("GET", "organisations/{unrelated}/invitations/", None, (401, 404, 404, 403, 404, 404, 404, 404, 200)),
    Row("DELETE", "organisations/{partner}/invitations/{partner_invitation_id}/", None, (401, 404, 403, 404, 204, 404, 403, 404, 404)),
    Row("DELETE", "organisations/{partner}/invitations/{unrelated_invitation_id}/", None, (401, 404, 403, 404, 404, 404, 403, 404, 404)),
    Row("PATCH", "organisations/{partner}/members/{former_membership}/", "reactivate", (401, 404, 403, 404, 200, 404, 403, 404, 404)),
    # Services and settings: an organisation's settings, its admin only; another
    # organisation's admin is refused (403) as on the members rows above (the directory shows it).
    Row("PATCH", "organisations/{partner}/", "organisation_settings", (401, 403, 403, 403, 200, 403, 403, 403, 403)),
    Row("PATCH", "organisations/{unrelated}/", "organisation_settings", (401, 403, 403, 403, 403, 403, 403, 403, 200)),
    Row("PATCH", "services/{service}/", "suspension", (401, 403, 403, 403, 200, 403, 403, 403, 403)),
]

#   anonymous, advisor, receiver_staff, unrelated_staff, receiver_admin, coordinator, coordinator_partner, withdrawn_receiver, other_admin
PAGES = [
    Row("GET", "/", None, (LOGIN, 302, 302, 302, 302, 302, 302, 302, 302)),
    Row("GET", "/login/", None, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("POST", "/logout/", None, (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)),
    Row("POST", "/structure/", "switch_to_partner", (LOGIN, 403, 302, 403, 302, 403, 302, 403, 403)),
    # The advisor's pages: only for a CitésLab (403 before anything else).
    Row("GET", "/porteurs/", None, (LOGIN, PERSON, 403, 403, 403, 403, 403, 403, 403), watch="holder"),
    Row("GET", "/porteurs/nouveau/", None, (LOGIN, 200, 403, 403, 403, 403, 403, 403, 403)),
    Row("POST", "/porteurs/nouveau/", "holder", (LOGIN, 302, 403, 403, 403, 403, 403, 403, 403)),
    Row("GET", "/porteurs/{holder}/", None, (LOGIN, PERSON, 403, 403, 403, 403, 403, 403, 403), watch="holder"),
    Row("GET", "/porteurs/{holder}/consentements/", None, (LOGIN, 200, 403, 403, 403, 403, 403, 403, 403)),
    Row("POST", "/porteurs/{holder}/consentements/", "consent", (LOGIN, 302, 403, 403, 403, 403, 403, 403, 403)),
    Row("POST", "/porteurs/{holder}/consentements/{consent}/retrait/", "withdrawal", (LOGIN, 302, 403, 403, 403, 403, 403, 403, 403)),
    Row("GET", "/porteurs/{spare_holder}/orienter/", None, (LOGIN, 200, 403, 403, 403, 403, 403, 403, 403)),
    Row("POST", "/porteurs/{spare_holder}/orienter/", "referral", (LOGIN, 302, 403, 403, 403, 403, 403, 403, 403)),
    Row("GET", "/orientations/envoyees/", None, (LOGIN, PERSON, 403, 403, 403, 403, 403, 403, 403), watch="referral"),
    Row("GET", "/actions/", None, (LOGIN, 200, 403, 403, 403, 403, 403, 403, 403)),
    Row("POST", "/actions/", None, (LOGIN, 405, 403, 403, 403, 403, 403, 403, 403)),
    Row("GET", "/actions/nouvelle/", None, (LOGIN, 200, 403, 403, 403, 403, 403, 403, 403)),
    Row("POST", "/actions/nouvelle/", "activity", (LOGIN, 302, 403, 403, 403, 403, 403, 403, 403)),
    Row("GET", "/actions/{activity}/modifier/", None, (LOGIN, 200, 403, 403, 403, 403, 403, 403, 403)),
    Row("POST", "/actions/{activity}/modifier/", "activity", (LOGIN, 302, 403, 403, 403, 403, 403, 403, 403)),
    Row("GET", "/actions/{activity}/supprimer/", None, (LOGIN, 200, 403, 403, 403, 403, 403, 403, 403)),
    Row("POST", "/actions/{activity}/supprimer/", None, (LOGIN, 302, 403, 403, 403, 403, 403, 403, 403)),
    # The partner's inbox: coordinator_partner's pages act for the partner until it switches.
    Row("GET", "/orientations/recues/", None, (LOGIN, 403, PERSON, NOTHING, PERSON, 403, PERSON, NOTHING, NOTHING), watch="referral"),
    Row("GET", "/orientations/recues/", None, (LOGIN, 403, NOTHING, NOTHING, NOTHING, 403, NOTHING, NOTHING, NOTHING), watch="withdrawn"),
    Row("GET", "/orientations/recues/", None, (LOGIN, 403, NOTHING, NOTHING, NOTHING, 403, NOTHING, NOTHING, NOTHING), watch="withdrawn_elsewhere"),
    # One referral's page and forms, as in the API.
    Row("GET", "/orientations/{referral}/", None, (LOGIN, PERSON, PERSON, 404, PERSON, FACTS, PERSON, 404, 404), watch="referral"),
    Row("POST", "/orientations/{referral}/accepter/", None, (LOGIN, 403, 302, 404, 302, 403, 302, 404, 404)),
    Row("POST", "/orientations/{referral}/refuser/", "decline", (LOGIN, 403, 302, 404, 302, 403, 302, 404, 404)),
    Row("POST", "/orientations/{accepted}/demarrer/", None, (LOGIN, 403, 302, 404, 302, 403, 302, 404, 404)),
    Row("POST", "/orientations/{accepted}/cloturer/", "complete", (LOGIN, 403, 302, 404, 302, 403, 302, 404, 404)),
    Row("POST", "/orientations/{referral}/annuler/", "cancel", (LOGIN, 302, 403, 404, 403, 403, 403, 404, 404)),
    Row("POST", "/orientations/{referral}/notes/", "note", (LOGIN, 302, 302, 404, 302, 403, 302, 404, 404)),
    Row("GET", "/orientations/{withdrawn}/", None, (LOGIN, PERSON, 404, 404, 404, FACTS, FACTS, 404, 404), watch="withdrawn"),
    Row("POST", "/orientations/{withdrawn}/accepter/", None, (LOGIN, 403, 404, 404, 404, 403, 403, 404, 404)),
    Row("POST", "/orientations/{withdrawn}/notes/", "note", (LOGIN, 302, 404, 404, 404, 403, 403, 404, 404)),
    Row("GET", "/orientations/{withdrawn_elsewhere}/", None, (LOGIN, PERSON, 404, 404, 404, FACTS, FACTS, 404, 404), watch="withdrawn_elsewhere"),
    # The sender's signed links: its sender manages them (a partner whose members answer in Relais
    # is sent none: 400), a party that may not 403, nobody else knows the referral.
    Row("POST", "/orientations/{referral}/liens/revoquer/", None, (LOGIN, 302, 403, 404, 403, 403, 403, 404, 404)),
    Row("POST", "/orientations/{referral}/liens/envoyer/", None, (LOGIN, 400, 403, 404, 403, 403, 403, 404, 404)),
    # A signed link needs no session: whoever holds it acts as the receiving partner (shared notes
    # only), whoever they are logged in as; a link after the consent's withdrawal gives nothing.
    Row("GET", "/lien/{referral}/{referral_link}/", None, (PERSON, PERSON, PERSON, PERSON, PERSON, PERSON, PERSON, PERSON, PERSON), watch="referral"),
    Row("POST", "/lien/{referral}/{referral_link}/accepter/", None, (302, 302, 302, 302, 302, 302, 302, 302, 302)),
    Row("POST", "/lien/{referral}/{referral_link}/refuser/", "decline", (302, 302, 302, 302, 302, 302, 302, 302, 302)),
    Row("POST", "/lien/{referral}/{referral_link}/notes/", "note", (302, 302, 302, 302, 302, 302, 302, 302, 302)),
    Row("POST", "/lien/{referral}/{referral_link}/nouveau/", None, (302, 302, 302, 302, 302, 302, 302, 302, 302)),
    Row("GET", "/lien/{withdrawn}/{withdrawn_link}/", None, (403, 403, 403, 403, 403, 403, 403, 403, 403), watch="withdrawn"),
    Row("POST", "/lien/{withdrawn}/{withdrawn_link}/accepter/", None, (403, 403, 403, 403, 403, 403, 403, 403, 403)),
    # The coordinator's dashboard: counts, never a person.
    Row("GET", "/pilotage/", None, (LOGIN, 403, 403, 403, 403, NOTHING, 403, 403, 403), watch="referral"),
    # The report: a CitésLab's own, the coordination's network; figures, never a person nor a note.
    Row("GET", "/rapport/", None, (LOGIN, NOTHING, 403, 403, 403, NOTHING, 403, 403, 403), watch="referral"),
    Row("GET", "/rapport/", None, (LOGIN, NOTHING, 403, 403, 403, NOTHING, 403, 403, 403), watch="activity"),
    # Members and invitations: the acting organisation's admin (every first member of
    # the world's organisations is one: the advisor, the coordinator, both partners' admins); a
    # member who is not admin 403 before anything, another organisation's objects 404.
    Row("GET", "/structure/membres/", None, (LOGIN, 200, 403, 403, 200, 200, 403, 403, 200)),
    Row("POST", "/structure/membres/inviter/", "invitation", (LOGIN, 302, 403, 403, 302, 302, 403, 403, 302)),
    Row("POST", "/structure/membres/invitations/{partner_invitation_id}/renvoyer/", None, (LOGIN, 404, 403, 403, 302, 404, 403, 403, 404)),
    Row("POST", "/structure/membres/invitations/{partner_invitation_id}/annuler/", None, (LOGIN, 404, 403, 403, 302, 404, 403, 403, 404)),
    Row("POST", "/structure/membres/{staff_membership}/desactiver/", None, (LOGIN, 404, 403, 403, 302, 404, 403, 403, 404)),
    Row("POST", "/structure/membres/{former_membership}/reactiver/", None, (LOGIN, 404, 403, 403, 302, 404, 403, 403, 404)),
    Row("POST", "/structure/membres/{staff_membership}/role/", "promote", (LOGIN, 404, 403, 403, 302, 404, 403, 403, 404)),
    # The invitee's page needs no login; signed in as an account of another address, it is refused.
    Row("GET", "/invitation/{partner_invitation}/{partner_invitation_token}/", None, (200, 403, 403, 403, 403, 403, 403, 403, 403)),
    Row("POST", "/invitation/{partner_invitation}/{partner_invitation_token}/", "new_account", (302, 403, 403, 403, 403, 403, 403, 403, 403)),
    # Password reset for everyone (an invalid link's page says so), change once signed in.
    Row("GET", "/mot-de-passe/oublie/", None, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("POST", "/mot-de-passe/oublie/", "reset", (302, 302, 302, 302, 302, 302, 302, 302, 302)),
    Row("GET", "/mot-de-passe/oublie/envoye/", None, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/mot-de-passe/reinitialiser/{reset_uid}/{reset_token}/", None, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/mot-de-passe/reinitialise/", None, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/mot-de-passe/changer/", None, (LOGIN, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", "/mot-de-passe/change/", None, (LOGIN, 200, 200, 200, 200, 200, 200, 200, 200)),
    # Services and settings: a partner's admin (403 for any other kind, and for a member
    # who is not an admin, before anything else); another organisation's service is unknown (404).
    Row("GET", "/structure/services/", None, (LOGIN, 403, 403, 403, 200, 403, 403, 403, 200)),
    Row("POST", "/structure/services/", None, (LOGIN, 403, 403, 403, 405, 403, 403, 403, 405)),
    Row("GET", "/structure/services/nouveau/", None, (LOGIN, 403, 403, 403, 200, 403, 403, 403, 200)),
    Row("POST", "/structure/services/nouveau/", "service", (LOGIN, 403, 403, 403, 302, 403, 403, 403, 302)),
    Row("GET", "/structure/services/{service}/", None, (LOGIN, 403, 403, 403, 200, 403, 403, 403, 404)),
    Row("POST", "/structure/services/{service}/", "service", (LOGIN, 403, 403, 403, 302, 403, 403, 403, 404)),
    Row("GET", "/structure/services/{unrelated_service}/", None, (LOGIN, 403, 403, 403, 404, 403, 403, 403, 200)),
    Row("POST", "/structure/services/{service}/suspendre/", "suspension", (LOGIN, 403, 403, 403, 302, 403, 403, 403, 404)),
    Row("POST", "/structure/services/{service}/reprendre/", None, (LOGIN, 403, 403, 403, 302, 403, 403, 403, 404)),
    Row("GET", "/structure/services/{service}/reprendre/", None, (LOGIN, 403, 403, 403, 405, 403, 403, 403, 405)),
    # Settings: any kind's admin (a CitésLab's, the coordination's too).
    Row("GET", "/structure/parametres/", None, (LOGIN, 200, 403, 403, 200, 200, 403, 403, 200)),
    Row("POST", "/structure/parametres/", "settings", (LOGIN, 302, 403, 403, 302, 302, 403, 403, 302)),
    # Notifications and holder pages
    # Everyone's notifications: only those about referrals they still see, a person named only to
    # a side (the advisor was told of the withdrawn referral's acceptance and note; its partner lost it).
    Row("GET", "/notifications/", None, (LOGIN, PERSON, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING), watch="withdrawn"),
    Row("GET", "/notifications/", None, (LOGIN, NOTHING, PERSON, NOTHING, PERSON, NOTHING, NOTHING, NOTHING, NOTHING), watch="referral"),
    # One's own notification only: anybody else's answers 404.
    Row("POST", "/notifications/{receiver_staff_notification}/lue/", None, (LOGIN, 404, 302, 404, 404, 404, 404, 404, 404)),
    Row("POST", "/notifications/toutes-lues/", None, (LOGIN, 302, 302, 302, 302, 302, 302, 302, 302)),
    Row("POST", "/notifications/preferences/", "email_preferences", (LOGIN, 302, 302, 302, 302, 302, 302, 302, 302)),
    # Editing and erasing a person: the advisor's pages (403 for any other kind of organisation).
    Row("GET", "/porteurs/{holder}/modifier/", None, (LOGIN, PERSON, 403, 403, 403, 403, 403, 403, 403), watch="holder"),
    Row("POST", "/porteurs/{holder}/modifier/", "holder_change", (LOGIN, 302, 403, 403, 403, 403, 403, 403, 403)),
    Row("GET", "/porteurs/{holder}/effacer/", None, (LOGIN, PERSON, 403, 403, 403, 403, 403, 403, 403), watch="holder"),
    Row("POST", "/porteurs/{holder}/effacer/", None, (LOGIN, 302, 403, 403, 403, 403, 403, 403, 403)),
]
# fmt: on


def api_bodies(world, role) -> dict:
    usernames = {"anonymous": "nobody"} | {r: u.username for r, u in world.users.items()}
    service = {"name": "Couveuse", "category": "activity_test"}
    return {
        "credentials": {"username": usernames[role], "password": "wrong" if role == "anonymous" else "secret-pass"},
        "new_member": {"username": "initiative-admin", "role": "member"},
        "promote": {"role": "admin"},
        "partner_service": {"organisation": world.partner.pk, **service},
        "unrelated_service": {"organisation": world.unrelated.pk, **service},
        "service_change": {"description": "Accompagnement individuel et collectif"},
        "new_holder": {"first_name": "Yanis", "last_name": "Diallo", "phone": "06 11 22 33 44"},
        "holder_change": {"stage": "emerging"},
        "new_consent": {
            "method": "written",
            "purpose": "Orientation vers l'emploi",
            "policy_version": "2026-01",
            "scope_kinds": ["employment"],
        },
        "withdrawal": {"reason": "Ne souhaite plus être accompagnée"},
        "new_referral": {
            "project_holder": str(world.spare_holder.uuid),
            "to_organisation": world.partner.pk,
            "motive": "Projet de traiteur à structurer",
        },
        "decline": {"reason": "no_capacity"},
        "complete": {
            "outcome": "business_created",
            "comment": "Immatriculée",
            "business_created_on": datetime.date.today().isoformat(),
            "business_legal_form": "micro",
            "business_jobs_created": 1,
        },
        "cancel": {"reason": "sent_by_mistake"},
        "note": {"body": "Bonjour"},
        "new_activity": {"kind": "forum", "date": datetime.date.today().isoformat(), "attendee_count": 12},
        "activity_change": {"attendee_count": 14},
        "read_all": {"all": True},
        "preferences": {"note.created": False},
        # Members and invitations
        "invitation": {"email": "collegue@example.org", "role": "member"},
        "reactivate": {"is_active": True},
        # Services and settings
        "organisation_settings": {"sla_days": 7, "follow_up_days": 21, "postal_code": "10000"},
        "suspension": {"suspended_until": (datetime.date.today() + datetime.timedelta(days=30)).isoformat()},
    }


def page_forms(world) -> dict:
    consent = {
        "consent-method": "oral",
        "consent-scope_kinds": ["creation"],
        "consent-expires_at": (datetime.date.today() + datetime.timedelta(days=200)).isoformat(),
        "consent-purpose": "Orientation",
    }
    holder = {
        "first_name": "Amina",
        "last_name": "Diallo",
        "email": "amina@example.org",
        "neighbourhood": world.neighbourhood.pk,
        "situation": "job_seeker",
        "stage": "idea",
        "project_summary": "Un food truck",
        "consent_given": "on",
    }
    return {
        "switch_to_partner": {"organisation": world.partner.pk},
        "holder": holder | consent,
        "consent": consent,
        "withdrawal": {"reason": "Ne souhaite plus"},
        "referral": {"to_organisation": world.partner.pk, "motive": "Montage du projet", "action": "send"},
        "activity": {"kind": "forum", "date": datetime.date.today().isoformat(), "attendee_count": 12},
        "decline": {"reason": "no_capacity"},
        "complete": {"outcome": "project_validated", "comment": "Projet validé"},
        "cancel": {"reason": "sent_by_mistake"},
        "note": {"body": "Bonjour", "visibility": "shared"},
        # Members and invitations
        "invitation": {"email": "collegue@example.org", "role": "member"},
        "promote": {"role": "admin"},
        "new_account": {
            "first_name": "Camille",
            "last_name": "Durand",
            "password1": "Chantereigne-Troyes-2026",
            "password2": "Chantereigne-Troyes-2026",
        },
        "reset": {"email": world.users["advisor"].email},
        # Services and settings
        "service": {"name": "Couveuse", "category": "activity_test", "is_active": "on", "is_public": "on"},
        "suspension": {"suspend-suspended_until": (datetime.date.today() + datetime.timedelta(days=30)).isoformat()},
        "settings": {"email": "contact@example.org", "sla_days": 7, "follow_up_days": 21, "postal_code": "10000"},
        # Notifications and holder pages
        "email_preferences": {"kinds": ["referral.created", "referral.status_changed"]},
        "holder_change": {key: value for key, value in holder.items() if key != "consent_given"}
        | {"stage": "emerging"},
    }


def answer_of(world, row: Row, response):
    """The cell's answer: the status, a login redirect, or what a 200 shows of the watched object."""
    status = response.status_code
    if status == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    if status != 200 or row.watch is None:
        return status
    private, public = marks(getattr(world, row.watch))
    content = response.content.decode()
    if any(text in content for text in private):
        return PERSON
    return FACTS if public in content else NOTHING


def marks(watched) -> tuple[list[str], str]:
    """What only the two sides may read of ``watched``, and what shows it is there."""
    if isinstance(watched, Activity):
        return [watched.notes], f'"id":{watched.pk},"organisation"'
    person = getattr(watched, "project_holder", watched)
    private = [person.last_name, person.email]
    if isinstance(watched, Referral):
        private += [watched.motive, *(note.body for note in watched.notes.all())]
    return private, str(watched.uuid)


def cells(rows):
    """One pytest param per (row, role), named "METHOD template as role"."""
    counts = Counter((r.method, r.template) for r in rows)
    params = []
    for entry in rows:
        name = f"{entry.method} {entry.template}"
        if counts[entry.method, entry.template] > 1:
            name += f" [{entry.body or entry.watch}]"
        for role, expected in zip(ROLES, entry.answers, strict=True):
            params.append(pytest.param(entry, role, expected, id=f"{name} as {role}"))
    return params


@pytest.mark.parametrize(("entry", "role", "expected"), cells(API))
def test_api(matrix_world, entry, role, expected):
    path = matrix_world.path(entry.template if entry.template.startswith("/") else "/api/v1/" + entry.template)
    body = api_bodies(matrix_world, role)[entry.body] if entry.body else None
    with transaction.atomic():
        response = matrix_world.client(role).generic(
            entry.method, path, data=json.dumps(body) if body is not None else "", content_type="application/json"
        )
        answer = answer_of(matrix_world, entry, response)
        if response.streaming:  # a file, read (and so closed) as a client reads it
            b"".join(response.streaming_content)
        transaction.set_rollback(True)

    assert answer == expected, getattr(response, "content", b"")[:300]


@pytest.mark.parametrize(("entry", "role", "expected"), cells(PAGES))
def test_page(matrix_world, entry, role, expected):
    path = matrix_world.path(entry.template)
    with transaction.atomic():
        client = matrix_world.page_client(role)
        if entry.method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, page_forms(matrix_world)[entry.body] if entry.body else {})
        answer = answer_of(matrix_world, entry, response)
        transaction.set_rollback(True)

    assert answer == expected, response.content[:300]


def _shape(pattern) -> str:
    return re.sub(r"<[^>]+>", "{}", str(pattern))


def _listed(rows) -> set[str]:
    return {re.sub(r"\{[^}]+\}", "{}", r.template) for r in rows}


def test_the_matrix_names_every_endpoint():
    import messaging.urls
    import partners.urls
    import referrals.urls

    routes = partners.urls.api_urlpatterns + referrals.urls.api_urlpatterns + messaging.urls.api_urlpatterns
    listed = {template for template in _listed(API) if not template.startswith("/")}
    assert {_shape(route.pattern) for route in routes} == listed


def test_the_matrix_names_every_page():
    import messaging.urls
    import partners.urls
    import referrals.urls

    routes = partners.urls.urlpatterns + referrals.urls.urlpatterns + messaging.urls.urlpatterns
    assert {"/" + _shape(route.pattern) for route in routes} == _listed(PAGES)


# --- members and invitations ------------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    """A value a path template names as it is (``_Ids`` of tests/worlds.py reads an object's ``pk``)."""

    pk: object


@pytest.fixture(scope="module", autouse=True)
def _members_and_invitations(matrix_world, django_db_blocker):
    """The objects of the members' and invitations' rows, added to the module's world and rolled
    back with it: a pending invitation of each partner, a past member of the receiving partner, and
    a password-reset link that is not valid."""
    world = matrix_world
    with django_db_blocker.unblock():
        invitation = invitation_create(
            organisation=world.partner,
            email="nouvelle.recrue@example.org",
            role="member",
            actor=world.users["receiver_admin"],
        )
        theirs = invitation_create(
            organisation=world.unrelated,
            email="recrue.adie@example.org",
            role="member",
            actor=world.users["other_admin"],
        )
        former = member_of(world.partner, username="bge-ancienne")
        world.former_membership = membership_deactivate(
            membership=Membership.objects.get(user=former, organisation=world.partner),
            actor=world.users["receiver_admin"],
        )
    world.partner_invitation = invitation
    world.partner_invitation_id = Named(invitation.pk)
    world.partner_invitation_token = Named(invitation_token(invitation))
    world.unrelated_invitation_id = Named(theirs.pk)
    world.reset_uid, world.reset_token = Named("MQ"), Named("lien-invalide")


# Notifications and holder pages: the notification the mark-read row names (the
# receiving staff's first, about the world's referral), put on the module's world for its path.
@pytest.fixture(autouse=True)
def _receiver_staff_notification(request):
    if "matrix_world" not in request.fixturenames:
        return
    world = request.getfixturevalue("matrix_world")
    if getattr(world, "receiver_staff_notification", None) is None:
        staff = world.users["receiver_staff"]
        world.receiver_staff_notification = Notification.objects.filter(user=staff).order_by("id").first()

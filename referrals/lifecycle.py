"""The lifecycle of a referral and where each viewer stands on it: the one home of these rules.
It decides from values it is given (statuses, grants already read); ``referrals.access`` reads them.

- The statuses by meaning (``AWAITING_ANSWER``, ``OPEN``, ``FOLLOWED_UP``, ``FINAL``) and
  ``TRANSITIONS``: from which statuses each goes, which side does it, the permission it needs and
  the sentences that refuse it (DESIGN.md section 4).
- ``choose_side``: the organisation a viewer acts for on one referral, decided by that
  organisation's *current grant* (a partner whose access went with a consent withdrawal is nobody's
  side any more); ``Side``: what that side may do and see. A viewer without a side (a coordinator)
  sees the pipeline facts only; a signed link's side (``by_link``) sees and does less.
- ``decide_holder_access``, ``HolderAccess``: what a requester may see and do of a person.
- ``is_reorientable``, ``previous_refusal``: which referral may be re-oriented or named as ``previous``.
"""

from dataclasses import dataclass, field, replace

from django.utils.translation import gettext_lazy as _

from network.errors import ActionForbidden
from partners.models import Organisation

from .models import ProjectHolder, Referral

Status = Referral.Status

SENDER = "sender"
RECEIVER = "receiver"
SYSTEM = "system"

# Who sees a referral, stated once for ``choose_side`` and its queryset form
# (``selectors.ReferralScope``): the organisation in each side's column, through its grant of
# ``SEES_REFERRAL``; only the receiver's grant is ever taken back (a consent withdrawal), so the
# sender's column alone says what an organisation sent.
SEES_REFERRAL = "view_referral"
PARTY_COLUMNS = {RECEIVER: "to_organisation", SENDER: "from_organisation"}  # the receiver first
REVOCABLE_SIDES = (RECEIVER,)
# What each side is granted on a referral it is party to (referrals/permissions.py grants them).
SENDER_PERMISSIONS = ("view_referral", "cancel_referral", "add_note_referral")
RECEIVER_PERMISSIONS = ("view_referral", "change_referral", "add_note_referral")


# The statuses by what they mean, defined here only. Awaiting an answer: reminded, escalated, expired.
AWAITING_ANSWER = (Status.SENT,)
OPEN = (Status.SENT, Status.ACCEPTED, Status.IN_PROGRESS)  # the sender may still cancel
FOLLOWED_UP = (Status.ACCEPTED, Status.IN_PROGRESS)  # the follow-up timers watch them
FINAL = (Status.COMPLETED, Status.DECLINED, Status.CANCELLED, Status.EXPIRED)  # nothing moves them


def is_open(referral) -> bool:
    return referral.status in OPEN


def is_final(referral) -> bool:
    return referral.status in FINAL


def sides_of_kind(kind: str) -> tuple[str, ...]:
    """The sides of a referral an organisation of ``kind`` can stand on. Only a CitésLab records
    people, so only it follows one and sends (services.referral_send); only a partner receives; an
    organisation's kind is fixed once created (partners.services.organisation_update)."""
    if kind == Organisation.Kind.CITESLAB:
        return (SENDER,)
    if kind in Organisation.PARTNER_KINDS:
        return (RECEIVER,)
    return (SENDER, RECEIVER)


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    side: str  # RECEIVER, SENDER or SYSTEM
    permission: str  # the codename the acting side's organisation must hold on the referral
    refused: str  # why the status does not allow it, with %(status)s
    forbidden: str = ""  # why this actor may not do it
    answers: bool = False  # the partner's answer to the referral: sets ``responded_at``

    def allows(self, status: str) -> bool:
        return status in self.sources

    def refusal(self, referral: Referral) -> str:
        return self.refused % {"status": referral.get_status_display()}


ACCEPT = Transition(
    "accept",
    AWAITING_ANSWER,
    Status.ACCEPTED,
    RECEIVER,
    "change_referral",
    _("Impossible d'accepter une orientation au statut « %(status)s »."),
    _("Seul le partenaire destinataire peut accepter cette orientation."),
    answers=True,
)
DECLINE = Transition(
    "decline",
    AWAITING_ANSWER,
    Status.DECLINED,
    RECEIVER,
    "change_referral",
    _("Impossible de refuser une orientation au statut « %(status)s »."),
    _("Seul le partenaire destinataire peut refuser cette orientation."),
    answers=True,
)
START = Transition(
    "start",
    (Status.ACCEPTED,),
    Status.IN_PROGRESS,
    RECEIVER,
    "change_referral",
    _("Impossible de démarrer une orientation au statut « %(status)s »."),
    _("Seul le partenaire destinataire peut démarrer cette orientation."),
)
COMPLETE = Transition(
    "complete",
    FOLLOWED_UP,
    Status.COMPLETED,
    RECEIVER,
    "change_referral",
    _("Impossible de clôturer une orientation au statut « %(status)s »."),
    _("Seul le partenaire destinataire peut clôturer cette orientation."),
)
CANCEL = Transition(
    "cancel",
    OPEN,
    Status.CANCELLED,
    SENDER,
    "cancel_referral",
    _("Impossible d'annuler une orientation au statut « %(status)s »."),
    _("Seule la structure qui a envoyé l'orientation peut l'annuler."),
)
EXPIRE = Transition(
    "expire",
    AWAITING_ANSWER,
    Status.EXPIRED,
    SYSTEM,
    "",
    _("Impossible de faire expirer une orientation au statut « %(status)s »."),
)
TRANSITIONS = {t.name: t for t in (ACCEPT, DECLINE, START, COMPLETE, CANCEL, EXPIRE)}
# What a partner does through a signed link (DESIGN.md section 11): answer; the rest needs an account.
LINK_TRANSITIONS = (ACCEPT, DECLINE)
# Reminders are not transitions: the referral stays ``sent`` (``AWAITING_ANSWER``).
REMIND_REFUSED = _("Seule une orientation sans réponse peut être relancée.")
# The follow-up timers (referrals.timers): a ``FOLLOWED_UP`` referral without news.
FOLLOW_UP_REFUSED = _("Seule une orientation acceptée ou en cours peut être relancée pour son suivi.")
ESCALATE_REFUSED = _("Seule une orientation sans réponse peut être signalée à la coordination.")
# Codes no longer offered for new answers: forms and the API stop offering them and services refuse
# them, while the referrals that carry them keep them in their history (les-emplois' RefusalReason).
RETIRED_CODES: dict[type, frozenset[str]] = {
    Referral.DeclineReason: frozenset(),
    Referral.Outcome: frozenset(),
    Referral.CancelReason: frozenset(),
}


def offered_choices(codes) -> list[tuple[str, str]]:
    """The (code, label) a form offers for ``codes`` (a TextChoices): all but the retired ones."""
    return [(value, label) for value, label in codes.choices if value not in RETIRED_CODES.get(codes, ())]


def is_offered(codes, value) -> bool:
    return value in codes.values and value not in RETIRED_CODES.get(codes, ())


# A referral that ended without the person getting where it was meant to take them: the sender
# is offered to re-orient them ("Réorienter"). A completion with another outcome took them
# somewhere, so its page offers nothing (a new referral may still name it: ``previous_refusal``).
REORIENTABLE_STATUSES = (Status.DECLINED, Status.EXPIRED, Status.CANCELLED)
PREVIOUS_NOT_SENT_BY_YOU = _("L'orientation précédente doit avoir été envoyée par votre structure.")
PREVIOUS_OF_ANOTHER_PERSON = _("L'orientation précédente doit concerner la même personne.")
PREVIOUS_NOT_FINAL = _(
    "L'orientation précédente est encore en cours (%(status)s) : attendez sa clôture, ou annulez-la, "
    "avant de réorienter la personne."
)


def is_reorientable(referral: Referral) -> bool:
    """Declined, expired, cancelled, or completed with the outcome ``reoriented``."""
    if referral.status == Status.COMPLETED:
        return referral.outcome == Referral.Outcome.REORIENTED
    return referral.status in REORIENTABLE_STATUSES


def previous_refusal(previous: Referral, *, holder: ProjectHolder, organisation: Organisation) -> str | None:
    """Why a new referral of ``holder`` sent by ``organisation`` may not name ``previous`` as its
    previous referral (DESIGN.md section 4: a final one, of the same person), None when it may.
    ``organisation`` must have sent it: the chain is the sender's record of the person's path."""
    if previous.from_organisation_id != organisation.pk:
        return str(PREVIOUS_NOT_SENT_BY_YOU)
    if previous.project_holder_id != holder.pk:
        return str(PREVIOUS_OF_ANOTHER_PERSON)
    if not is_final(previous):
        return str(PREVIOUS_NOT_FINAL % {"status": previous.get_status_display()})
    return None


# Decline reasons that need a message, so that the advisor knows where to turn next.
MESSAGE_REQUIRED_DECLINE_REASONS = (Referral.DeclineReason.OTHER, Referral.DeclineReason.WRONG_PARTNER)
NOT_A_SIDE = _("Vous consultez cette orientation sans pouvoir agir dessus.")
NOTES_ARE_FOR_THE_TWO_SIDES = _("Seules les deux structures de l'orientation peuvent lire et écrire ses notes.")
CANNOT_WRITE_NOTES = _("Vous ne pouvez pas écrire sur cette orientation.")
HOLDER_MANAGER_ONLY = _("Seule la structure qui suit ce porteur de projet peut le consulter ou le modifier ici.")


# --- sides ------------------------------------------------------------------------------------


def side_name(referral: Referral, organisation_id: int | None) -> str | None:
    """The side of ``referral`` an organisation (by id) stands on by its place in the referral, grants
    aside: RECEIVER, SENDER or None."""
    if organisation_id is None:
        return None
    if organisation_id == referral.to_organisation_id:
        return RECEIVER
    if organisation_id == referral.from_organisation_id:
        return SENDER
    return None


@dataclass(frozen=True)
class Side:
    """Where one viewer stands on one referral, and so what it may do and see there.

    ``organisation`` is the organisation the viewer acts for (None: an observer, who may see the
    referral, like a coordinator, or not at all); ``permissions`` the codenames that
    organisation currently holds on the referral. ``by_link``: the receiving side reached through
    a signed link, without an account (``LinkActor``): it reads and writes the shared notes only,
    answers (``LINK_TRANSITIONS``) and nothing more, and never sees the ``previous`` link.
    """

    referral: Referral
    organisation: Organisation | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    by_link: bool = False

    @property
    def name(self) -> str | None:
        return side_name(self.referral, self.organisation.pk if self.organisation else None)

    @property
    def is_party(self) -> bool:
        """On one of the referral's two sides, through a current grant."""
        return self.name is not None and SEES_REFERRAL in self.permissions

    @property
    def is_receiver(self) -> bool:
        return self.is_party and self.name == RECEIVER

    @property
    def is_sender(self) -> bool:
        return self.is_party and self.name == SENDER

    # What the side may see. Whoever sees the referral sees its pipeline facts (organisations,
    # service, status, dates, codes, ``Referral.BUSINESS_FIELDS``, the person's neighbourhood,
    # situation, stage), never the person's gender or age bracket (``HolderAccess.sees_statistics``).
    @property
    def sees_person(self) -> bool:
        """The person's name, contact and project summary (DESIGN.md section 5)."""
        return self.is_party

    @property
    def sees_free_texts(self) -> bool:
        """The motive, the decline message, the outcome and cancel comments, history comments."""
        return self.is_party

    @property
    def sees_notes(self) -> bool:
        """The conversation of the two organisations: shared notes and its own internal ones."""
        return self.is_party

    @property
    def sees_previous(self) -> bool:
        """The ``previous`` link of its referral (``sees_link``)."""
        previous = self.referral.previous
        return previous is not None and self.sees_link(previous, self.referral)

    def sees_link(self, earlier, later) -> bool:
        """Whether this side sees that ``later`` named ``earlier`` as its previous referral (the
        re-orientation chain). The sender and an observer (a coordinator: organisations, statuses,
        dates) see every link of the person's chain; a receiver only a link between two referrals
        to its own organisation, so that it never learns of the person's referrals to another
        partner, not even their ids (DESIGN.md section 5). Reads ``to_organisation_id`` of both."""
        if self.by_link:  # a signed link shows the one referral it was sent for
            return False
        if self.is_receiver:
            return earlier.to_organisation_id == later.to_organisation_id == self.organisation.pk
        return True

    @property
    def can_reorient(self) -> bool:
        """The sender offers a new referral of the person naming this one as ``previous``
        (``is_reorientable``); never for an erased person, who can no longer be referred."""
        return (
            self.is_sender
            and is_reorientable(self.referral)
            and self.referral.project_holder.created_by_organisation_id == self.organisation.pk
            and not self.referral.project_holder.erased_at
        )

    @property
    def can_note(self) -> bool:
        return self.is_party and "add_note_referral" in self.permissions

    @property
    def note_visibilities(self) -> tuple[str, ...]:
        """The visibilities of the notes it reads and writes (messaging.Note.Visibility): a link
        speaks for an address, not for the organisation's staff, so only the shared ones."""
        return ("shared",) if self.by_link else ("shared", "internal")

    @property
    def manages_links(self) -> bool:
        """Revokes the signed links sent for the referral and sends a fresh one: its sender."""
        return self.is_sender

    # What the side may do.
    def may(self, transition: Transition) -> bool:
        """On the transition's side with its permission, whatever the status (403 otherwise)."""
        if self.by_link and transition not in LINK_TRANSITIONS:
            return False
        return self.is_party and self.name == transition.side and transition.permission in self.permissions

    def can(self, transition: Transition) -> bool:
        """May, and the status allows it now: the actions a page offers."""
        return self.may(transition) and transition.allows(self.referral.status)

    def require(self, transition: Transition) -> Organisation:
        """The organisation that does ``transition``; 403 with its reason if this side may not."""
        if not self.may(transition):
            raise ActionForbidden(transition.forbidden)
        return self.organisation

    def require_notes(self) -> Organisation:
        """The organisation whose notes this side reads and writes; 403 without a side."""
        if not self.sees_notes:
            raise ActionForbidden(NOTES_ARE_FOR_THE_TWO_SIDES)
        return self.organisation

    @property
    def transitions(self) -> list[str]:
        return [name for name, transition in TRANSITIONS.items() if self.can(transition)]

    def through_link(self) -> "Side":
        """This side as a signed link reaches it (``by_link``); an observer stays one."""
        return replace(self, by_link=True) if self.organisation is not None else self

    @property
    def receives_first_view(self) -> bool:
        """Opening the referral sets ``first_viewed_at`` (the sender sees "lu")."""
        return self.is_receiver and self.referral.first_viewed_at is None


def choose_side(referral: Referral, grants: dict[int, set[str]], *, side: str | None = None) -> Side:
    """Where a viewer stands on ``referral``, given the grants ({organisation id: codenames}) it holds
    on it through its organisations: the receiver if it acts for it, else the sender; only ``side``
    when given (an action of that side: a user of both organisations cancels as the sender and
    accepts as the receiver). Decided by *current* grants, never by membership alone: a receiving
    partner whose access went with a consent withdrawal is nobody's side any more."""
    for name in PARTY_COLUMNS if side is None else (side,):
        organisation = getattr(referral, PARTY_COLUMNS[name]) if name in PARTY_COLUMNS else None
        if organisation is not None and SEES_REFERRAL in grants.get(organisation.pk, ()):
            return Side(referral, organisation, frozenset(grants[organisation.pk]))
    return Side(referral)


def holding_access(referral: Referral, party_grants: dict[int, set[str]]) -> list[int]:
    """The ids of the referral's two organisations that still hold their grant among ``party_grants``
    (a consent withdrawal removes the receiver's): the organisations its events go to."""
    party = [referral.from_organisation_id, referral.to_organisation_id]
    return [organisation_id for organisation_id in party if "view_referral" in party_grants.get(organisation_id, ())]


# --- project holders --------------------------------------------------------------------------

FOLLOWS = "follows"  # the organisation that recorded the person: the whole file, and every write
NETWORK_ADMIN = "network_admin"  # reads every file, writes none
REFERRED = "referred"  # a receiving partner with a live grant: what the referral needs
NO_ACCESS = ""


@dataclass(frozen=True)
class HolderAccess:
    """What a requester may see and do of one person."""

    holder: ProjectHolder
    level: str = NO_ACCESS
    organisation: Organisation | None = None  # the organisation it acts for, when it follows

    @property
    def sees_person(self) -> bool:
        return self.level in (FOLLOWS, NETWORK_ADMIN, REFERRED)

    @property
    def reads_file(self) -> bool:
        """The consents, every referral and the intake activities of the person."""
        return self.level in (FOLLOWS, NETWORK_ADMIN)

    @property
    def manages(self) -> bool:
        """Edits the person, records and withdraws consents, refers, erases."""
        return self.level == FOLLOWS

    def require_manages(self) -> Organisation:
        """The organisation that follows the person and acts on them; 403 for anybody else."""
        if not self.manages:
            raise ActionForbidden(HOLDER_MANAGER_ONLY)
        return self.organisation

    @property
    def sees_statistics(self) -> bool:
        """The person's gender and age bracket, asked for the programme's statistics: part of the
        file, so never a receiving partner's (DESIGN.md section 5: a partner sees what the
        referral needs) and never a coordinator's, who counts them in aggregates only."""
        return self.reads_file

    def require_reads_file(self) -> None:
        if not self.reads_file:
            raise ActionForbidden(HOLDER_MANAGER_ONLY)


def decide_holder_access(
    user, holder: ProjectHolder, codenames: dict[int, set[str]], *, organisation: Organisation | None = None
) -> HolderAccess:
    """What ``user`` may see and do of ``holder``, given the codenames ({organisation id: codenames})
    their organisations' Groups hold on the person (only ``organisation``'s, when given): the
    organisation that follows the person, the network admin (reads), a receiving partner with a
    live grant, nobody else. Coordinators see people only as pipeline facts of a referral
    (``Side``), never here."""
    follower = holder.created_by_organisation_id
    if "change_projectholder" in codenames.get(follower, ()):
        return HolderAccess(holder, FOLLOWS, holder.created_by_organisation)
    if user.is_superuser and organisation is None:
        return HolderAccess(holder, NETWORK_ADMIN)
    if any("view_projectholder" in c for c in codenames.values()):
        return HolderAccess(holder, REFERRED)
    return HolderAccess(holder)

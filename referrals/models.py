import uuid

from django.conf import settings
from django.db import models
from django.db.models import Value as V
from django.db.models.functions import Concat, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase

from partners.models import TEXT_MAX_LENGTH, Neighbourhood, Organisation, Service


class ProjectHolder(models.Model):
    """A resident met by a CitésLab. Minimal personal data: nothing beyond these fields."""

    class Situation(models.TextChoices):
        JOB_SEEKER = "job_seeker", _("Demandeur d'emploi")
        EMPLOYED = "employed", _("Salarié")
        STUDENT = "student", _("Étudiant")
        INACTIVE = "inactive", _("Inactif")
        OTHER = "other", _("Autre")

    class Stage(models.TextChoices):
        IDEA = "idea", _("Idée")
        EMERGING = "emerging", _("Projet émergent")
        STRUCTURED = "structured", _("Projet structuré")

    # Optional, for the programme's statistics only (DESIGN.md section 3): never a birth date.
    class Gender(models.TextChoices):
        FEMALE = "female", _("Femme")
        MALE = "male", _("Homme")
        UNSPECIFIED = "unspecified", _("Ne souhaite pas le préciser")

    class AgeBracket(models.TextChoices):
        UNDER_26 = "under_26", _("Moins de 26 ans")
        FROM_26_TO_44 = "26_44", _("26 à 44 ans")
        FROM_45 = "45_plus", _("45 ans et plus")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    first_name = models.CharField(_("prénom"), max_length=100, blank=True)
    last_name = models.CharField(_("nom"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    neighbourhood = models.ForeignKey(
        Neighbourhood,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="project_holders",
        verbose_name=_("quartier"),
        db_index=False,  # holder_neighbourhood
    )
    situation = models.CharField(_("situation"), max_length=20, choices=Situation.choices, default=Situation.OTHER)
    project_summary = models.TextField(_("résumé du projet"), blank=True, max_length=TEXT_MAX_LENGTH)
    stage = models.CharField(_("maturité du projet"), max_length=20, choices=Stage.choices, default=Stage.IDEA)
    gender = models.CharField(_("genre"), max_length=20, choices=Gender.choices, blank=True)
    age_bracket = models.CharField(_("tranche d'âge"), max_length=20, choices=AgeBracket.choices, blank=True)
    created_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="project_holders", verbose_name=_("créé par (structure)")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("créé par"),
    )
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    erased_at = models.DateTimeField(_("anonymisé le"), null=True, blank=True)
    # What a search looks into (selectors.project_holders_matching): name and contact in capitals,
    # kept by the database, indexed by trigrams on PostgreSQL (migration 0004).
    search_text = models.GeneratedField(
        expression=Upper(
            Concat("first_name", V(" "), "last_name", V(" "), "email", V(" "), "phone", output_field=models.TextField())
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("porteur de projet")
        verbose_name_plural = _("porteurs de projet")
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="holder_by_name"),
            models.Index(fields=["-created_at", "-id"], name="holder_newest"),
            # An organisation's own people, newest first (the activity form's choices).
            models.Index(fields=["created_by_organisation", "-created_at", "-id"], name="holder_recorded_newest"),
            # A neighbourhood's people, their ids read from the index alone (a referral list's
            # neighbourhood filter, ``network.paging.AmongIds``).
            models.Index(fields=["neighbourhood", "id"], name="holder_neighbourhood"),
        ]

    def __str__(self):
        if self.erased_at:
            return str(_("Porteur anonymisé"))
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def full_name(self):
        return str(self)


class ProjectHolderGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(ProjectHolder, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
        ordering = ["id"]


class Consent(models.Model):
    """An immutable record of consent; only the withdrawal fields are ever set afterwards."""

    class Method(models.TextChoices):
        ORAL = "oral", _("Orale")
        WRITTEN = "written", _("Écrite")
        ELECTRONIC = "electronic", _("Électronique")

    project_holder = models.ForeignKey(ProjectHolder, on_delete=models.CASCADE, related_name="consents")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="recorded_consents")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    given_at = models.DateTimeField(_("donné le"))
    method = models.CharField(_("forme"), max_length=20, choices=Method.choices)
    scope_organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="+", verbose_name=_("organisations couvertes")
    )
    scope_kinds = models.JSONField(_("types d'organisation couverts"), default=list, blank=True)
    purpose = models.TextField(_("finalité"), max_length=TEXT_MAX_LENGTH)
    policy_version = models.CharField(_("version de la politique"), max_length=20)
    expires_at = models.DateTimeField(_("expire le"))
    withdrawn_at = models.DateTimeField(_("retiré le"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawal_reason = models.TextField(_("motif du retrait"), blank=True, max_length=TEXT_MAX_LENGTH)

    class Meta:
        ordering = ["-given_at", "-id"]
        verbose_name = _("consentement")
        verbose_name_plural = _("consentements")

    def __str__(self):
        return f"{self.project_holder} · {self.given_at:%d/%m/%Y}"

    def is_active_at(self, moment) -> bool:
        return self.withdrawn_at is None and self.given_at <= moment < self.expires_at

    def covers(self, organisation: Organisation) -> bool:
        """Whether the scope names the organisation or its kind. Uses the prefetched scope if any."""
        if organisation.kind in (self.scope_kinds or []):
            return True
        return any(o.pk == organisation.pk for o in self.scope_organisations.all())


class Referral(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", _("Envoyée")
        ACCEPTED = "accepted", _("Acceptée")
        IN_PROGRESS = "in_progress", _("En cours")
        COMPLETED = "completed", _("Terminée")
        DECLINED = "declined", _("Refusée")
        CANCELLED = "cancelled", _("Annulée")
        EXPIRED = "expired", _("Expirée")

    class DeclineReason(models.TextChoices):
        UNREACHABLE = "unreachable", _("Personne injoignable")
        NO_SHOW = "no_show", _("Absence au rendez-vous")
        NOT_ELIGIBLE = "not_eligible", _("Non éligible")
        NOT_INTERESTED = "not_interested", _("Personne non intéressée")
        NO_CAPACITY = "no_capacity", _("Pas de place disponible")
        WRONG_PARTNER = "wrong_partner", _("Mauvais partenaire")
        DUPLICATE = "duplicate", _("Doublon")
        OTHER = "other", _("Autre")

    class Outcome(models.TextChoices):
        BUSINESS_CREATED = "business_created", _("Entreprise créée")
        PROJECT_VALIDATED = "project_validated", _("Projet validé")
        JOB = "job", _("Emploi")
        TRAINING = "training", _("Formation")
        REORIENTED = "reoriented", _("Réorientation")
        ABANDONED = "abandoned", _("Abandon")
        UNREACHABLE = "unreachable", _("Personne injoignable")

    class LegalForm(models.TextChoices):
        """The legal form of a company created (outcome ``business_created``)."""

        MICRO = "micro", _("Micro-entreprise")
        EI = "ei", _("Entreprise individuelle (EI)")
        SARL_EURL = "sarl_eurl", _("SARL ou EURL")
        SAS_SASU = "sas_sasu", _("SAS ou SASU")
        ASSOCIATION_SCOP = "association_scop", _("Association, SCOP ou SCIC")
        OTHER = "other", _("Autre forme")

    class CancelReason(models.TextChoices):
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Consentement retiré")
        PROJECT_HOLDER_REQUEST = "project_holder_request", _("À la demande du porteur")
        SENT_BY_MISTAKE = "sent_by_mistake", _("Envoyée par erreur")
        OTHER = "other", _("Autre")

    # The figures of a company created (outcome ``business_created``), and their bounds: beyond
    # them a number is a typing error (a CitésLab's companies employ a few people, and are
    # financed in thousands of euros, not billions).
    BUSINESS_FIELDS = ("business_created_on", "business_legal_form", "business_jobs_created", "business_financing_eur")
    BUSINESS_JOBS_MAX = 1_000
    BUSINESS_FINANCING_MAX = 100_000_000

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project_holder = models.ForeignKey(
        ProjectHolder,
        on_delete=models.PROTECT,
        related_name="referrals",
        db_index=False,  # referral_holder_newest
    )
    from_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="sent_referrals", verbose_name=_("structure émettrice")
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("envoyée par")
    )
    to_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="received_referrals", verbose_name=_("partenaire")
    )
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals", verbose_name=_("service")
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("suivie par"),
    )
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="referrals")
    motive = models.TextField(_("motif de l'orientation"), max_length=TEXT_MAX_LENGTH)
    status = models.CharField(_("statut"), max_length=20, choices=Status.choices, default=Status.SENT)
    decline_reason = models.CharField(_("motif du refus"), max_length=30, choices=DeclineReason.choices, blank=True)
    decline_message = models.TextField(_("message de refus"), blank=True, max_length=TEXT_MAX_LENGTH)
    cancel_reason = models.CharField(_("motif d'annulation"), max_length=30, choices=CancelReason.choices, blank=True)
    outcome = models.CharField(_("résultat"), max_length=30, choices=Outcome.choices, blank=True)
    outcome_comment = models.TextField(_("commentaire sur le résultat"), blank=True, max_length=TEXT_MAX_LENGTH)
    business_created_on = models.DateField(_("date de création de l'entreprise"), null=True, blank=True)
    business_legal_form = models.CharField(_("forme juridique"), max_length=20, choices=LegalForm.choices, blank=True)
    business_jobs_created = models.PositiveIntegerField(_("emplois créés"), null=True, blank=True)
    business_financing_eur = models.PositiveIntegerField(_("financement obtenu (euros)"), null=True, blank=True)
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="next_referrals",
        verbose_name=_("orientation précédente"),
    )
    created_at = models.DateTimeField(_("envoyée le"), default=timezone.now)
    first_viewed_at = models.DateTimeField(_("lue le"), null=True, blank=True)
    responded_at = models.DateTimeField(_("réponse le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("clôturée le"), null=True, blank=True)
    last_reminder_at = models.DateTimeField(_("dernière relance"), null=True, blank=True)
    # The follow-up timers of an accepted or in-progress referral (referrals.timers): the last
    # reminder to the partner, and when it was reported stalled, since its last news.
    follow_up_reminded_at = models.DateTimeField(_("dernière relance de suivi"), null=True, blank=True)
    stalled_at = models.DateTimeField(_("signalée sans suite le"), null=True, blank=True)
    # An unanswered referral reported to the coordination, once (past the SLA × 2).
    escalated_at = models.DateTimeField(_("signalée à la coordination le"), null=True, blank=True)
    # Signed links (DESIGN section 11) carry this number: the sender revokes every link sent so
    # far by moving it on. Nothing of a link is stored.
    link_version = models.PositiveIntegerField(_("version des liens e-mail"), default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("orientation")
        verbose_name_plural = _("orientations")
        permissions = [
            ("cancel_referral", _("Annuler l'orientation")),
            ("add_note_referral", _("Écrire une note sur l'orientation")),
        ]
        # The lists' order (newest first) and their filters, each readable from an index a page at a time.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="referral_newest"),
            # A list of one status, newest first: walked in order, stopping at the page. With the
            # id, a list's counts by status read the index alone (PostgreSQL).
            models.Index(fields=["status", "-created_at", "-id"], name="referral_status_newest"),
            models.Index(fields=["to_organisation", "status", "-created_at", "-id"], name="referral_to_status_newest"),
            models.Index(
                fields=["from_organisation", "status", "-created_at", "-id"], name="referral_from_status_newest"
            ),
            # A sent or received list, newest first, to its deep pages.
            models.Index(fields=["from_organisation", "-created_at", "-id"], name="referral_from_newest"),
            models.Index(fields=["to_organisation", "-created_at", "-id"], name="referral_to_newest"),
            # A person's referrals, newest first; and a neighbourhood's, read from its people's ids
            # in this index alone.
            models.Index(fields=["project_holder", "-created_at", "-id"], name="referral_holder_newest"),
            # The companies created in a report's period: the few completions with that outcome,
            # by closing date (referrals.reports), rather than every referral of the network.
            models.Index(
                fields=["closed_at"],
                condition=models.Q(outcome="business_created"),
                name="referral_business_closed",
            ),
        ]
        constraints = [
            # The figures belong to a company created; required for it by the service only, as
            # referrals completed with that outcome before they existed have none.
            models.CheckConstraint(
                condition=models.Q(outcome="business_created")
                | models.Q(
                    business_created_on=None,
                    business_legal_form="",
                    business_jobs_created=None,
                    business_financing_eur=None,
                ),
                name="referral_business_figures_with_outcome",
            ),
        ]

    def __str__(self):
        return f"{self.project_holder} → {self.to_organisation}"

    def get_absolute_url(self):
        return reverse("referral_detail", kwargs={"uuid": self.uuid})


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
        ordering = ["id"]


class ReferralEvent(models.Model):
    """Append-only status history: one row per transition, the sending included."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=Referral.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Referral.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A step taken through a signed link (no user): the address the link was sent to.
    actor_email = models.EmailField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    reason_code = models.CharField(max_length=30, blank=True)
    comment = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("étape d'orientation")
        verbose_name_plural = _("historique des orientations")

    def __str__(self):
        return f"{self.referral_id}: {self.from_status or '∅'} → {self.to_status}"


class Activity(models.Model):
    """Intake work of a CitésLab, counted in funder reports. Edited and deleted by its CitésLab
    (``services.activity_update``, ``activity_delete``); a deletion is soft (``deleted_at``) so
    that its history (``ActivityRevision``) stays, and every list and count leaves it out."""

    class Kind(models.TextChoices):
        INDIVIDUAL_INTERVIEW = "individual_interview", _("Entretien individuel")
        COLLECTIVE_SESSION = "collective_session", _("Atelier collectif")
        FORUM = "forum", _("Forum")
        DROP_IN = "drop_in", _("Permanence")

    # Beyond any forum's attendance: a larger number is a typing error (and past 64 bits, an overflow).
    ATTENDEES_MAX = 100_000

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    date = models.DateField(_("date"))
    neighbourhood = models.ForeignKey(
        Neighbourhood,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("quartier"),
    )
    attendee_count = models.PositiveIntegerField(_("nombre de participants"), default=1)
    project_holders = models.ManyToManyField(
        ProjectHolder,
        blank=True,
        through="ActivityAttendee",
        related_name="activities",
        verbose_name=_("porteurs de projet"),
    )
    partner_organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="co_organised_activities", verbose_name=_("partenaires associés")
    )
    notes = models.TextField(_("notes"), blank=True, max_length=TEXT_MAX_LENGTH)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(_("supprimée le"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supprimée par"),
    )

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("action d'accueil")
        verbose_name_plural = _("actions d'accueil")
        constraints = [
            models.CheckConstraint(condition=models.Q(attendee_count__gte=1), name="activity_attendees_positive"),
        ]

    def __str__(self):
        return f"{self.kind_label} · {self.date:%d/%m/%Y}"

    @property
    def kind_label(self):
        """``get_kind_display()`` by the enum: Django's builds a dict of the choices on every call
        (a list page of activities called it 75 times)."""
        try:
            return self.Kind(self.kind).label
        except ValueError:
            return self.kind


class ActivityAttendee(models.Model):
    """A person linked to an intake activity, met there for the first time (``is_new``) or
    already met. ``is_new`` is computed when the person is linked (no earlier activity of the
    CitésLab, not deleted, links them: ``services.activities``) and may be corrected."""

    activity = models.ForeignKey(
        Activity,
        on_delete=models.CASCADE,
        related_name="attendees",
        db_index=False,  # activity_attendee_unique
    )
    project_holder = models.ForeignKey(
        ProjectHolder,
        on_delete=models.CASCADE,
        related_name="attendances",
        db_index=False,  # attendee_holder
    )
    is_new = models.BooleanField(_("nouvelle personne"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("participant à une action")
        verbose_name_plural = _("participants aux actions")
        constraints = [
            models.UniqueConstraint(fields=["activity", "project_holder"], name="activity_attendee_unique"),
        ]
        indexes = [
            # A person's earlier activities (whether they are new at the next one), and retention.
            models.Index(fields=["project_holder", "activity"], name="attendee_holder"),
        ]

    def __str__(self):
        return f"{self.activity_id} · {self.project_holder_id}"


class ActivityRevision(models.Model):
    """Append-only history of an intake activity: one row per recording, change and deletion,
    with who, when and what changed (``changes``: {field: {"old": …, "new": …}}, people by their
    public uuid). The notes' text is never copied here (a free text that may name people, blanked
    by an erasure): a change to them is recorded as ``{"notes": {"changed": true}}``."""

    class Action(models.TextChoices):
        CREATED = "created", _("Enregistrée")
        UPDATED = "updated", _("Modifiée")
        DELETED = "deleted", _("Supprimée")

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="revisions")
    action = models.CharField(_("opération"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("date"), default=timezone.now)
    changes = models.JSONField(_("changements"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("historique d'une action d'accueil")
        verbose_name_plural = _("historique des actions d'accueil")

    def __str__(self):
        return f"{self.activity_id}: {self.action}"

    @property
    def changed_labels(self) -> list[str]:
        """The names of the fields that changed, as the form labels them."""
        names = {"attendees": "project_holders"}
        return [str(Activity._meta.get_field(names.get(name, name)).verbose_name) for name in self.changes]

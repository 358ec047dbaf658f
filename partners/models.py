import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The limit of a free text (a motive, a message, a description): services enforce it
# (network/text.py), forms and serializers say it.
TEXT_MAX_LENGTH = 4000


def display_name(user, email: str = "") -> str:
    """How a person of the network is named everywhere: full name, else username; "" for nobody.

    ``email``: what was done without an account, through a signed link (DESIGN.md section 11), is
    recorded with no user and the address the link was sent to, and named by it.
    """
    if user is None:
        return link_actor_name(email) if email else ""
    return user.get_full_name() or user.get_username()


def link_actor_name(email: str) -> str:
    """Who acted through a signed link sent to ``email``: in the history, the notes, the stream."""
    return gettext("via lien e-mail (%(email)s)") % {"email": email}


class QpvResidence(models.TextChoices):
    """Whether a person lives in a priority neighbourhood (QPV): derived, never stored. A person
    without a neighbourhood, or in one without an official QPV code, is "hors QPV"."""

    QPV = "qpv", _("QPV")
    OUTSIDE = "outside_qpv", _("hors QPV")


def qpv_q(prefix: str = "") -> models.Q:
    """Rows whose neighbourhood (reached through ``prefix``, e.g. ``"neighbourhood__"`` from a
    person, ``"project_holder__neighbourhood__"`` from a referral) carries an official QPV code,
    as a filter usable in aggregates: ``Count("pk", filter=qpv_q("neighbourhood__"))``. A missing
    neighbourhood is NULL, which the comparison leaves out: hors QPV."""
    return models.Q(**{f"{prefix}qpv_code__gt": ""})


def qpv_residence_case(prefix: str = "") -> models.Case:
    """``QpvResidence``'s code of each row as a database expression, to group by:
    ``.annotate(qpv=qpv_residence_case("neighbourhood__")).values("qpv")``."""
    return models.Case(
        models.When(qpv_q(prefix), then=models.Value(QpvResidence.QPV)),
        default=models.Value(QpvResidence.OUTSIDE),
        output_field=models.CharField(),
    )


class Neighbourhood(models.Model):
    """A neighbourhood of the territory, a QPV when it carries an official code."""

    name = models.CharField(_("nom"), max_length=120)
    commune = models.CharField(_("commune"), max_length=120)
    qpv_code = models.CharField(_("code QPV"), max_length=20, blank=True)

    class Meta:
        ordering = ["commune", "name"]
        verbose_name = _("quartier")
        verbose_name_plural = _("quartiers")
        constraints = [
            models.UniqueConstraint(fields=["commune", "name"], name="neighbourhood_unique_name"),
            models.UniqueConstraint(
                fields=["qpv_code"],
                condition=~models.Q(qpv_code=""),
                name="neighbourhood_unique_qpv_code",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.commune})"

    @property
    def is_qpv(self) -> bool:
        return bool(self.qpv_code)


def qpv_residence_of(neighbourhood: Neighbourhood | None) -> QpvResidence:
    """``QpvResidence`` of a person living in ``neighbourhood`` (None: hors QPV)."""
    return QpvResidence.QPV if neighbourhood is not None and neighbourhood.is_qpv else QpvResidence.OUTSIDE


class Organisation(models.Model):
    class Kind(models.TextChoices):
        CITESLAB = "citeslab", _("CitésLab")
        EMPLOYMENT = "employment", _("Partenaire emploi")
        CREATION = "creation", _("Partenaire création d'entreprise")
        COORDINATION = "coordination", _("Coordination")

    # The organisations a CitésLab refers people to.
    PARTNER_KINDS = (Kind.EMPLOYMENT, Kind.CREATION)

    name = models.CharField(_("nom"), max_length=150, unique=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    address = models.TextField(_("adresse"), blank=True, max_length=1000)
    territory = models.CharField(_("territoire"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail de contact"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sla_days = models.PositiveSmallIntegerField(
        _("délai de réponse (jours)"),
        default=10,
        help_text=_("Nombre de jours pour répondre à une orientation avant relance."),
    )
    follow_up_days = models.PositiveSmallIntegerField(
        _("délai de suivi (jours)"),
        default=30,
        help_text=_(
            "Nombre de jours sans nouvelle d'une orientation acceptée ou en cours avant relance ; "
            "au double, l'orientation est signalée sans suite à la CitésLab et à la coordination."
        ),
    )
    receives_by_link = models.BooleanField(
        _("recevoir les orientations par lien e-mail"),
        default=False,
        help_text=_(
            "Chaque orientation reçue est aussi envoyée à l'e-mail de contact, avec un lien pour y répondre "
            "sans se connecter. Sans membre actif, c'est toujours le cas."
        ),
    )
    # The catalogue (data·inclusion's structure): identifiers, how to reach it, where it came from.
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True)
    commune = models.CharField(_("commune"), max_length=120, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    website = models.URLField(_("site web"), blank=True)
    description = models.TextField(_("description"), blank=True, max_length=TEXT_MAX_LENGTH)
    source = models.CharField(_("source"), max_length=100, blank=True)
    source_id = models.CharField(_("identifiant à la source"), max_length=200, blank=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organisation", editable=False)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(condition=models.Q(sla_days__gte=1), name="organisation_sla_positive"),
            models.CheckConstraint(condition=models.Q(follow_up_days__gte=1), name="organisation_follow_up_positive"),
            models.UniqueConstraint(
                fields=["source", "source_id"],
                condition=~models.Q(source_id=""),
                name="organisation_unique_source_id",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_partner(self):
        return self.kind in self.PARTNER_KINDS


PARTNER_KIND_CHOICES = [(kind.value, kind.label) for kind in Organisation.PARTNER_KINDS]


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrateur")
        MEMBER = "member", _("Membre")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("rôle"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(_("active"), default=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invité par"),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    deactivated_at = models.DateTimeField(_("désactivée le"), null=True, blank=True)

    class Meta:
        ordering = ["organisation__name", "user__username"]
        verbose_name = _("adhésion")
        verbose_name_plural = _("adhésions")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique_user_organisation"),
        ]

    def __str__(self):
        return f"{self.user} · {self.organisation} ({self.get_role_display()})"


class MembershipChange(models.Model):
    """Who changed a membership, and when (append-only): joined, role changed, deactivated,
    reactivated."""

    class Action(models.TextChoices):
        JOINED = "joined", _("Arrivée")
        ROLE = "role", _("Changement de rôle")
        DEACTIVATED = "deactivated", _("Désactivation")
        REACTIVATED = "reactivated", _("Réactivation")

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    role = models.CharField(_("rôle"), max_length=10, choices=Membership.Role.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("par"),
    )
    at = models.DateTimeField(_("le"), default=timezone.now)

    class Meta:
        ordering = ["membership_id", "at", "id"]
        verbose_name = _("changement d'adhésion")
        verbose_name_plural = _("changements d'adhésion")

    def __str__(self):
        return f"{self.membership} · {self.get_action_display()} · {self.at:%Y-%m-%d}"


class Invitation(models.Model):
    """An invitation to join an organisation, valid ``INVITATION_MAX_AGE_DAYS`` days; accepting it
    creates the account of that e-mail or joins the existing one."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("rôle"), max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invité par"),
    )
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    sent_at = models.DateTimeField(_("envoyée le"), default=timezone.now)
    expires_at = models.DateTimeField(_("expire le"))
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acceptée par"),
    )
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("annulée par"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            # One pending invitation per address and organisation: resending renews it.
            models.UniqueConstraint(
                fields=["organisation", "email"],
                condition=models.Q(accepted_at__isnull=True, cancelled_at__isnull=True),
                name="invitation_unique_pending",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="invitation_organisation")]

    def __str__(self):
        return f"{self.email} → {self.organisation}"


class Service(models.Model):
    """An offer of a partner, named after Open Referral HSDS fields where they exist."""

    class Category(models.TextChoices):
        CREATION_SUPPORT = "creation_support", _("Accompagnement à la création")
        MICROCREDIT = "microcredit", _("Microcrédit")
        FUNDING = "funding", _("Financement, prêt d'honneur")
        TRAINING = "training", _("Formation")
        ACTIVITY_TEST = "activity_test", _("Test d'activité")
        JOB_SEARCH = "job_search", _("Aide à la recherche d'emploi")
        ORIENTATION = "orientation", _("Orientation, information")
        OTHER = "other", _("Autre")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(_("nom"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=TEXT_MAX_LENGTH)
    category = models.CharField(_("catégorie"), max_length=30, choices=Category.choices)
    eligibility_description = models.TextField(_("conditions d'accès"), blank=True, max_length=TEXT_MAX_LENGTH)
    email = models.EmailField(_("e-mail"), blank=True)
    url = models.URLField(_("site web"), blank=True)
    neighbourhoods = models.ManyToManyField(
        Neighbourhood, blank=True, related_name="services", verbose_name=_("quartiers desservis")
    )
    is_active = models.BooleanField(_("actif"), default=True)
    # How to reach it (data·inclusion: adresse, code_postal, commune, telephone, lien_mobilisation).
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True)
    commune = models.CharField(_("commune"), max_length=120, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    appointment_url = models.URLField(_("lien de prise de rendez-vous"), blank=True)
    is_public = models.BooleanField(
        _("ouvert au public"),
        default=True,
        help_text=_("Publié dans le catalogue ouvert (data·inclusion) ; sinon réservé au réseau."),
    )
    suspended_until = models.DateField(
        _("suspendu jusqu'au"),
        null=True,
        blank=True,
        help_text=_("Le service n'est pas proposé jusqu'à cette date incluse."),
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    source_id = models.CharField(_("identifiant à la source"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True, null=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True, null=True)

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"],
                condition=~models.Q(source_id=""),
                name="service_unique_source_id",
            ),
        ]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self):
        return f"{self.name} — {self.organisation}"


# What a partner's admin describes of a service, in the API and the admin alike.
SERVICE_FIELDS = (
    "name",
    "description",
    "category",
    "eligibility_description",
    "email",
    "url",
    "neighbourhoods",
    "is_active",
    "address",
    "postal_code",
    "commune",
    "phone",
    "appointment_url",
    "is_public",
    "suspended_until",
)

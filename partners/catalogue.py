"""The open catalogue, in the data·inclusion schema (``SCHEMA_VERSION`` of ``data-inclusion-schema``).

One home for what Relais publishes of its organisations (data·inclusion's structures) and services,
with which field names and codes, and for how a data·inclusion file comes back in as organisations
and services:

- what is published: ``structures_published`` (active organisations of the kinds that receive the
  public: the CitésLab and the partners, not the coordination) and ``services_published`` (active,
  public, not suspended today, of a published organisation), both in id order;
- how a row is written: ``structure_row``, ``service_row``. Only the organisation's and the service's
  own fields: never a member, an account or a person. An e-mail that is an account's address is a
  person's and is left out (``account_emails_among``);
- ``catalogue_import``: a data·inclusion file into organisations and services, idempotent by the
  rows' (source, id), through ``partners.services``.

Our own rows are published as source ``catalogue_source()`` ("relais" unless the setting
``CATALOGUE_SOURCE`` names this instance otherwise), id ``<source>--<pk>``; an imported row keeps
the source and id it came with.
"""

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from network.errors import ValidationFailed

from .models import Organisation, Service
from .services.formats import check_email, check_url
from .services.organisations import organisation_create, organisation_update
from .services.services import service_create, service_update

SCHEMA_VERSION = "1.0.10"
DEFAULT_SOURCE = "relais"

# The kinds whose organisations receive the public; the coordination steers the network.
PUBLISHED_KINDS = (Organisation.Kind.CITESLAB, *Organisation.PARTNER_KINDS)

# data·inclusion's minimum lengths (Structure.nom, Service.nom, Service.description).
NAME_MIN, NAME_MAX, DESCRIPTION_MIN = 3, 150, 5

_CREATE = "creer-une-entreprise"
# What each category of service is in data·inclusion: its type and its thematiques.
CATEGORY_OFFER = {
    Service.Category.CREATION_SUPPORT: (
        "accompagnement",
        (
            f"{_CREATE}--definir-son-projet-de-creation-dentreprise",
            f"{_CREATE}--structurer-son-projet-de-creation-dentreprise",
        ),
    ),
    Service.Category.MICROCREDIT: (
        "aide-financiere",
        (f"{_CREATE}--structurer-son-projet-de-creation-dentreprise", f"{_CREATE}--developper-son-entreprise"),
    ),
    Service.Category.FUNDING: (
        "aide-financiere",
        (f"{_CREATE}--structurer-son-projet-de-creation-dentreprise", f"{_CREATE}--developper-son-entreprise"),
    ),
    Service.Category.TRAINING: ("formation", ("se-former--trouver-sa-formation",)),
    Service.Category.ACTIVITY_TEST: (
        "accompagnement",
        (f"{_CREATE}--structurer-son-projet-de-creation-dentreprise", f"{_CREATE}--developper-son-entreprise"),
    ),
    Service.Category.JOB_SEARCH: (
        "accompagnement",
        (
            "preparer-sa-candidature--organiser-ses-demarches-de-recherche-demploi",
            "trouver-un-emploi--faire-des-candidatures-spontanees",
            "trouver-un-emploi--repondre-a-des-offres-demploi",
        ),
    ),
    Service.Category.ORIENTATION: (
        "information",
        (
            "choisir-un-metier--connaitre-les-opportunites-demploi",
            f"{_CREATE}--definir-son-projet-de-creation-dentreprise",
        ),
    ),
    Service.Category.OTHER: (None, ()),
}

# Networks (data·inclusion's reseaux_porteurs) of business-creation support: an imported
# structure carried by one of them is a creation partner.
CREATION_NETWORKS = frozenset(
    {
        "adie",
        "chambres-consulaires",
        "france-active",
        "initiative-france",
        "les-premieres",
        "positive-planet",
        "reseau-bge",
        "reseau-entreprendre",
    }
)
CREATION_CATEGORIES = frozenset(
    {
        Service.Category.CREATION_SUPPORT,
        Service.Category.MICROCREDIT,
        Service.Category.FUNDING,
        Service.Category.ACTIVITY_TEST,
    }
)

_DIGITS = re.compile(r"\d+", re.ASCII)


def catalogue_source() -> str:
    """The producer's name of this instance's own rows (data·inclusion's ``source``)."""
    return getattr(settings, "CATALOGUE_SOURCE", DEFAULT_SOURCE)


# ---------------------------------------------------------------------------------------------
# Export


def structures_published():
    """The organisations of the catalogue, by id: active, of a kind that receives the public."""
    return Organisation.objects.filter(is_active=True, kind__in=PUBLISHED_KINDS).order_by("id")


def services_published(today: datetime.date | None = None):
    """The services of the catalogue, by id, their organisation joined: active, public, of a
    published organisation, and not suspended on ``today`` (a suspended service is left out until
    the day after its ``suspended_until``: data·inclusion has no suspension, and a consumer would
    send people to an offer that takes nobody)."""
    today = today or timezone.localdate()
    return (
        Service.objects.filter(
            Q(suspended_until__isnull=True) | Q(suspended_until__lt=today),
            is_active=True,
            is_public=True,
            organisation__is_active=True,
            organisation__kind__in=PUBLISHED_KINDS,
        )
        .select_related("organisation")
        .order_by("id")
    )


def structure_id(organisation: Organisation) -> str:
    return organisation.source_id or f"{catalogue_source()}--{organisation.pk}"


def account_emails_among(addresses) -> set[str]:
    """Those of ``addresses`` (lower-cased) that are the address of an account, its e-mail or its
    username (accounts are named after their address: ``invitations.accounts_of``): a person's,
    never published. One query for a page of rows."""
    wanted = {address.lower() for address in addresses if address}
    if not wanted:
        return set()
    accounts = (
        get_user_model()
        .objects.annotate(address=Lower("email"), login=Lower("username"))
        .filter(Q(address__in=wanted) | Q(login__in=wanted))
        .values_list("address", "login")
    )
    return wanted & {value for account in accounts for value in account}


def structure_row(organisation: Organisation, *, personal: set[str] = frozenset()) -> dict:
    """``organisation`` as a data·inclusion structure. ``personal``: lower-cased addresses of
    people (``account_emails_among``), left out."""
    with translation.override("fr"):
        kind = str(organisation.get_kind_display())
    return {
        "source": organisation.source if organisation.source_id else catalogue_source(),
        "id": structure_id(organisation),
        "nom": _name(organisation.name, kind),
        "date_maj": _date_maj(organisation.updated_at).isoformat(),
        "description": _at_least(organisation.description, DESCRIPTION_MIN),
        "siret": _digits(organisation.siret, 14),
        "adresse": _one_line(organisation.address),
        "code_postal": _digits(organisation.postal_code, 5),
        "commune": organisation.commune or None,
        "telephone": organisation.phone or None,
        "courriel": _public_email(organisation.email, personal),
        "site_web": organisation.website or None,
    }


def service_row(service: Service, *, personal: set[str] = frozenset()) -> dict:
    """``service`` (its organisation joined) as a data·inclusion service.

    data·inclusion requires a description of at least 5 characters: a shorter one (or none) is
    replaced by the category and the name ("Formation : Atelier CV")."""
    kind, thematiques = CATEGORY_OFFER.get(service.category, (None, ()))
    with translation.override("fr"):
        category = str(service.get_category_display())
    modes = [
        mode
        for mode, known in (
            ("envoyer-un-courriel", _public_email(service.email, personal)),
            ("telephoner", service.phone),
            ("utiliser-lien-mobilisation", service.appointment_url),
        )
        if known
    ]
    own = not service.source_id
    return {
        "source": catalogue_source() if own else service.source,
        "structure_id": structure_id(service.organisation),
        "id": f"{catalogue_source()}--{service.pk}" if own else service.source_id,
        "nom": _name(service.name, category),
        "description": _at_least(service.description, DESCRIPTION_MIN) or f"{category} : {service.name}",
        "date_maj": _date_maj(service.updated_at or service.created_at or service.organisation.updated_at).isoformat(),
        "type": kind,
        "thematiques": sorted(thematiques) or None,
        "conditions_acces": service.eligibility_description.strip() or None,
        "adresse": service.address or None,
        "code_postal": _digits(service.postal_code, 5),
        "commune": service.commune or None,
        "telephone": service.phone or None,
        "courriel": _public_email(service.email, personal),
        "lien_source": service.url or None,
        "lien_mobilisation": service.appointment_url or None,
        "modes_mobilisation": sorted(modes) or None,
    }


def _date_maj(moment: datetime.datetime) -> datetime.date:
    """The UTC date: data·inclusion refuses a ``date_maj`` in the future, and after midnight in
    Paris the local date is still tomorrow for a validator running on UTC."""
    return moment.astimezone(datetime.UTC).date()


def _name(name: str, label: str) -> str:
    """A name within data·inclusion's 3 to 150 characters: cut with an ellipsis, or completed
    with ``label`` (the kind or the category) when too short."""
    name = name.strip()
    if len(name) > NAME_MAX:
        name = name[: NAME_MAX - 1].rstrip() + "…"
    return name if len(name) >= NAME_MIN else f"{name} – {label}"


def _at_least(text: str, length: int) -> str | None:
    text = (text or "").strip()
    return text if len(text) >= length else None


def _digits(value: str, length: int) -> str | None:
    return value if value and len(value) == length and _DIGITS.fullmatch(value) else None


def _one_line(text: str) -> str | None:
    return ", ".join(line.strip() for line in (text or "").splitlines() if line.strip()) or None


def _public_email(address: str, personal) -> str | None:
    return address if address and address.lower() not in personal else None


# ---------------------------------------------------------------------------------------------
# Import


@dataclass
class ImportReport:
    """What an import did: per kind of row (``structures``, ``services``), how many were created,
    updated, unchanged and skipped; and why each skipped row was."""

    counts: dict = field(default_factory=lambda: {"structures": Counter(), "services": Counter()})
    problems: list[str] = field(default_factory=list)

    def skip(self, what: str, position: int, identifier, reason: str) -> None:
        self.counts[what]["skipped"] += 1
        label = "structure" if what == "structures" else "service"
        identifier = "" if identifier is None else str(identifier).strip()
        name = f" ({identifier})" if identifier else ""
        self.problems.append(f"{label} n° {position}{name} : {reason}")


def category_of(kind: str | None, thematiques) -> str:
    """The category of an imported service, from its data·inclusion type and thematiques
    (``CATEGORY_OFFER`` read backwards; microcredit and activity tests come back as funding and
    creation support, which data·inclusion does not tell apart)."""
    prefixes = {thematique.split("--")[0] for thematique in thematiques or ()}
    if kind == "aide-financiere" and _CREATE in prefixes:
        return Service.Category.FUNDING
    if kind == "formation" or "se-former" in prefixes:
        return Service.Category.TRAINING
    if kind == "information":
        return Service.Category.ORIENTATION
    if _CREATE in prefixes:
        return Service.Category.CREATION_SUPPORT
    if prefixes & {"trouver-un-emploi", "preparer-sa-candidature"}:
        return Service.Category.JOB_SEARCH
    if "choisir-un-metier" in prefixes:
        return Service.Category.ORIENTATION
    return Service.Category.OTHER


@transaction.atomic
def catalogue_import(*, structures: list, services: list, kind: str | None = None) -> ImportReport:
    """Create or update organisations and services from data·inclusion rows (dictionaries as in
    its JSON files), matched on their (source, id): importing a file twice creates its rows once.

    Each row is validated by the schema package's models (``data_inclusion.schema.v1``); a row
    that fails, that this instance published itself (source ``catalogue_source()``), whose
    identifiers are blank or too long, that repeats an earlier row's (source, id), whose
    structure is unknown (``_structure_of``) or that a service refuses is reported and skipped,
    the others are written. It creates and updates, never retires: a row absent from a later
    file leaves its organisation or service as it is. One transaction: a failure that is not a row's leaves nothing half imported.

    A new organisation's kind is ``kind`` when given (a partner kind), else creation when its
    ``reseaux_porteurs`` are a creation network or most of its services are creation services,
    else employment. A name another organisation already has gets the commune in brackets; if
    that is taken too, the structure is skipped. A local choice is kept on update: an
    organisation's kind, a service's activity, publication and suspension.
    """
    from data_inclusion.schema import v1  # noqa: PLC0415 (the API's modules need no pydantic)

    if kind is not None and kind not in Organisation.PARTNER_KINDS:
        raise ValidationFailed(f"Type d'organisation importée inconnu : {kind}.", field="kind")
    report = ImportReport()
    valid_structures = _validated_rows(v1.Structure, structures, "structures", report)
    valid_services = _validated_rows(v1.Service, services, "services", report)
    categories: dict[tuple, Counter] = {}
    for _position, row in valid_services:
        key = (row["source"], row["structure_id"])
        categories.setdefault(key, Counter())[category_of(row["type"], row["thematiques"])] += 1
    organisations = {}
    for position, row in valid_structures:
        with transaction.atomic():
            try:
                outcome, organisation = _structure_import(row, kind, categories.get((row["source"], row["id"])))
            except ValidationFailed as refusal:
                transaction.set_rollback(True)
                report.skip("structures", position, row["id"], str(refusal.message))
                continue
        report.counts["structures"][outcome] += 1
        organisations[row["source"], row["id"]] = organisation
    for position, row in valid_services:
        with transaction.atomic():
            try:
                outcome = _service_import(row, organisations)
            except ValidationFailed as refusal:
                transaction.set_rollback(True)
                report.skip("services", position, row["id"], str(refusal.message))
                continue
        report.counts["services"][outcome] += 1
    return report


def _validated_rows(model, rows, what: str, report: ImportReport) -> list[tuple[int, dict]]:
    """(position from 1, row as the schema reads it in JSON) of the rows ``model`` accepts; the
    others reported. A row of this instance's own source is reported too: it describes one of our
    own organisations or services, which importing would duplicate; so is a row whose identifiers
    are blank or do not fit our columns (``_identifier_problem``), and a row of the same (source,
    id) as an earlier one of the file (the first is imported)."""
    import pydantic  # noqa: PLC0415

    valid = []
    seen = {}  # (source, id) of the rows kept: their position
    for position, row in enumerate(rows, start=1):
        identifier = row.get("id") if isinstance(row, dict) else None
        if not isinstance(row, dict):
            report.skip(what, position, None, "un objet JSON est attendu")
            continue
        try:
            validated = model.model_validate(row)
        except pydantic.ValidationError as error:
            reasons = "; ".join(
                f"{'.'.join(str(part) for part in problem['loc']) or 'ligne'} : {problem['msg']}"
                for problem in error.errors()
            )
            report.skip(what, position, identifier, reasons)
            continue
        if validated.source == catalogue_source():
            report.skip(what, position, identifier, f"publiée par cette instance (source « {validated.source} »)")
            continue
        problem = _identifier_problem(validated, what)
        if problem:
            report.skip(what, position, identifier, problem)
            continue
        key = (validated.source, validated.id)
        if key in seen:
            report.skip(
                what,
                position,
                identifier,
                _("en double : même source et même identifiant qu'au n° %(position)d") % {"position": seen[key]},
            )
            continue
        seen[key] = position
        valid.append((position, validated.model_dump(mode="json")))
    return valid


def _identifier_problem(row, what: str) -> str | None:
    """Why the identifiers of ``row`` (as the schema read it) cannot name an organisation or a
    service of ours: one is blank, or longer than the column that keeps it (a service's
    ``structure_id`` is an organisation's ``source_id``)."""
    model = Organisation if what == "structures" else Service
    columns = {"source": model._meta.get_field("source"), "id": model._meta.get_field("source_id")}
    if what == "services":
        columns["structure_id"] = Organisation._meta.get_field("source_id")
    for name, column in columns.items():
        value = getattr(row, name)
        if not value.strip():
            return _("%(field)s : vide") % {"field": name}
        if len(value) > column.max_length:
            return _("%(field)s : plus de %(limit)d caractères (il en compte %(length)d)") % {
                "field": name,
                "limit": column.max_length,
                "length": len(value),
            }
    return None


def _structure_import(row: dict, kind: str | None, categories: Counter | None) -> tuple[str, Organisation]:
    organisation = Organisation.objects.filter(source=row["source"], source_id=row["id"]).first()
    basic = {
        # Stripped as the services store it, so that an unchanged name compares equal.
        "name": _free_name(row["nom"].strip(), (row["commune"] or "").strip(), organisation),
        "address": _fit(", ".join(filter(None, [row["adresse"], row["complement_adresse"]])), Organisation, "address"),
        "email": _fit(row["courriel"], Organisation, "email", cut=False, check=check_email),
    }
    described = {
        "siret": row["siret"] or "",
        "postal_code": row["code_postal"] or "",
        "commune": _fit(row["commune"], Organisation, "commune", cut=False),
        "phone": _fit(row["telephone"], Organisation, "phone", cut=False),
        "website": _fit(row["site_web"], Organisation, "website", cut=False, check=check_url),
        "description": _fit(row["description"], Organisation, "description"),
    }
    if organisation is None:
        organisation = organisation_create(kind=kind or _kind_of(row, categories), **basic)
        organisation_update(organisation=organisation, source=row["source"], source_id=row["id"], **described)
        return "created", organisation
    changed = {name: value for name, value in basic.items() if getattr(organisation, name) != value}
    if changed:
        organisation_update(organisation=organisation, **changed)
    before = organisation.updated_at
    organisation_update(organisation=organisation, **described)
    return ("updated" if changed or organisation.updated_at != before else "unchanged"), organisation


def _service_import(row: dict, organisations: dict) -> str:
    organisation = _structure_of(row, organisations)
    fields = {
        "name": _fit(row["nom"], Service, "name"),
        "description": _fit(row["description"], Service, "description"),
        "category": category_of(row["type"], row["thematiques"]),
        "eligibility_description": _fit(
            "\n".join(filter(None, [row["conditions_acces"], row["publics_precisions"]])),
            Service,
            "eligibility_description",
        ),
        "email": _fit(row["courriel"], Service, "email", cut=False, check=check_email),
        "url": _fit(row["lien_source"], Service, "url", cut=False, check=check_url),
        "address": _fit(", ".join(filter(None, [row["adresse"], row["complement_adresse"]])), Service, "address"),
        "postal_code": row["code_postal"] or "",
        "commune": _fit(row["commune"], Service, "commune", cut=False),
        "phone": _fit(row["telephone"], Service, "phone", cut=False),
        "appointment_url": _fit(row["lien_mobilisation"], Service, "appointment_url", cut=False, check=check_url),
    }
    service = Service.objects.filter(source=row["source"], source_id=row["id"]).first()
    if service is None:
        service_create(organisation=organisation, actor=None, source=row["source"], source_id=row["id"], **fields)
        return "created"
    if service.organisation_id != organisation.pk:
        raise ValidationFailed(f"ce service est déjà rattaché à une autre structure ({service.organisation})")
    changed = {name: value for name, value in fields.items() if getattr(service, name) != value}
    if not changed:
        return "unchanged"
    service_update(service=service, actor=None, **changed)
    return "updated"


def _structure_of(row: dict, organisations: dict) -> Organisation:
    """The organisation of a service row: the one imported with its (source, structure_id); else
    the only imported one whose id is ``structure_id``, whatever its source: a service another
    Relais added to a structure it had imported is published under that instance's source with
    the structure's own id ("relais", "dora--a"). Refused when no organisation or several have
    that id, and when it is one of this instance's own (``<source>--<pk>``): their services are
    their admin's, a file adds none."""
    key = (row["source"], row["structure_id"])
    organisation = organisations.get(key)
    if organisation is None:
        organisation = Organisation.objects.filter(source=key[0], source_id=key[1]).first()
    if organisation is None:
        same_id = list(Organisation.objects.filter(source_id=key[1])[:2])
        if len(same_id) > 1:
            raise ValidationFailed(
                _("structure ambiguë : plusieurs structures importées ont l'identifiant %(id)s") % {"id": key[1]}
            )
        organisation = same_id[0] if same_id else None
    if organisation is None:
        own, _separator, pk = key[1].rpartition("--")
        if own == catalogue_source() and pk.isascii() and pk.isdigit():
            if Organisation.objects.filter(pk=int(pk), source_id="").exists():
                raise ValidationFailed(
                    _("structure de cette instance (%(id)s) : un fichier n'ajoute pas de service à ses organisations")
                    % {"id": key[1]}
                )
        raise ValidationFailed(f"structure inconnue : {row['structure_id']}")
    organisations[key] = organisation
    return organisation


def _kind_of(row: dict, categories: Counter | None) -> str:
    if CREATION_NETWORKS & set(row["reseaux_porteurs"] or ()):
        return Organisation.Kind.CREATION
    categories = categories or Counter()
    creation = sum(count for category, count in categories.items() if category in CREATION_CATEGORIES)
    if creation * 2 > sum(categories.values()):
        return Organisation.Kind.CREATION
    return Organisation.Kind.EMPLOYMENT


def _free_name(name: str, commune: str | None, organisation: Organisation | None) -> str:
    """``name``, or ``name (commune)`` when another organisation has it; refused when both are taken."""
    others = Organisation.objects.exclude(pk=organisation.pk) if organisation else Organisation.objects.all()
    if not others.filter(name__iexact=name).exists():
        return name
    suffixed = f"{name} ({commune})" if commune else ""
    limit = Organisation._meta.get_field("name").max_length
    if suffixed and len(suffixed) <= limit and not others.filter(name__iexact=suffixed).exists():
        return suffixed
    raise ValidationFailed(f"une autre organisation s'appelle déjà « {name} »")


def _fit(value: str | None, model, name: str, *, cut: bool = True, check=None) -> str:
    """``value`` within the column ``name`` of ``model``: a text cut with an ellipsis (``cut``),
    else left out when it does not fit (a cut phone number or address is a wrong one). Left out
    too when ``check`` (the services' own check of an e-mail or a web address) refuses it: the
    schema accepts addresses Django's validators do not (``https://mon_site.example.fr``,
    ``jérôme@exemple.fr``), and the row is imported without it rather than skipped."""
    value = (value or "").strip()
    limit = model._meta.get_field(name).max_length
    if limit is not None and len(value) > limit:
        return value[: limit - 1].rstrip() + "…" if cut else ""
    if check is not None and value:
        try:
            check(value, name)
        except ValidationFailed:
            return ""
    return value

"""The open catalogue under /api/v1/catalogue/: structures and services in the data·inclusion
schema, public and read-only (what is published and how: ``partners.catalogue``).

No authentication at all: a token or a session changes nothing to the answer, and no request
reads an account. Each client address is limited to ``CatalogueThrottle``'s rate.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, permissions, serializers, throttling
from rest_framework.settings import api_settings

from . import catalogue

# Requests per client address, unless DEFAULT_THROTTLE_RATES names a rate for "catalogue".
DEFAULT_RATE = "120/minute"


class CatalogueThrottle(throttling.SimpleRateThrottle):
    """Limits the catalogue's requests per client address (behind ``NUM_PROXIES`` trusted proxies)."""

    scope = "catalogue"

    def get_rate(self):
        # Read at request time, so the rate follows the settings (and tests can change it).
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope, DEFAULT_RATE)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _text(help_text, **kwargs):
    return serializers.CharField(allow_null=True, help_text=help_text, **kwargs)


def _codes(values, help_text):
    return serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(values)), allow_null=True, help_text=help_text
    )


SCHEMA = f"schéma data·inclusion {catalogue.SCHEMA_VERSION} (paquet data-inclusion-schema)"


class CatalogueStructureSerializer(serializers.Serializer):
    """A structure of the catalogue, as ``partners.catalogue.structure_row`` writes it."""

    source = serializers.CharField(help_text="Producteur de la donnée : « relais » pour les organisations du réseau.")
    id = serializers.CharField(
        help_text="Identifiant unique : « relais--<id> », ou celui d'origine d'une structure importée."
    )
    nom = serializers.CharField()
    date_maj = serializers.DateField(help_text="Date de dernière modification (UTC).")
    description = _text("Description (au moins 5 caractères).")
    siret = _text("Numéro SIRET (14 chiffres).")
    adresse = _text("Adresse.")
    code_postal = _text("Code postal (5 chiffres).")
    commune = _text("Commune.")
    telephone = _text("Téléphone.")
    courriel = _text("E-mail de contact de la structure (jamais celui d'une personne).")
    site_web = _text("Site web.")

    class Meta:
        ref_name = "CatalogueStructure"

    def to_representation(self, instance):
        return catalogue.structure_row(instance, personal=self.context.get("personal", frozenset()))


class CatalogueServiceSerializer(serializers.Serializer):
    """A service of the catalogue, as ``partners.catalogue.service_row`` writes it."""

    source = serializers.CharField()
    structure_id = serializers.CharField(help_text="L'``id`` de sa structure.")
    id = serializers.CharField()
    nom = serializers.CharField()
    description = serializers.CharField(help_text="Description ; à défaut, la catégorie et le nom du service.")
    date_maj = serializers.DateField(help_text="Date de dernière modification (UTC).")
    type = serializers.ChoiceField(
        choices=sorted({kind for kind, _ in catalogue.CATEGORY_OFFER.values() if kind}), allow_null=True
    )
    thematiques = _codes(
        {thematique for _, thematiques in catalogue.CATEGORY_OFFER.values() for thematique in thematiques},
        "Thématiques data·inclusion.",
    )
    conditions_acces = _text("Conditions d'accès.")
    adresse = _text("Adresse.")
    code_postal = _text("Code postal (5 chiffres).")
    commune = _text("Commune.")
    telephone = _text("Téléphone.")
    courriel = _text("E-mail du service (jamais celui d'une personne).")
    lien_source = _text("Page décrivant le service.")
    lien_mobilisation = _text("Lien de prise de rendez-vous.")
    modes_mobilisation = _codes(
        {"envoyer-un-courriel", "telephoner", "utiliser-lien-mobilisation"}, "Modes de mobilisation."
    )

    class Meta:
        ref_name = "CatalogueService"

    def to_representation(self, instance):
        return catalogue.service_row(instance, personal=self.context.get("personal", frozenset()))


class CatalogueList(generics.ListAPIView):
    """A page of the catalogue. Every row's e-mail is checked against the accounts' addresses in
    one query (``catalogue.account_emails_among``): a page reads its count, its ids, its rows and
    these addresses, whatever its size."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [CatalogueThrottle]
    filter_backends = []

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "personal": self._personal}

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        self._personal = catalogue.account_emails_among(self.emails_of(page))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema_view(
    get=extend_schema(
        tags=["catalogue"],
        auth=[],
        summary="Structures du catalogue ouvert",
        description=f"Les organisations actives du réseau qui accueillent le public (CitésLab, partenaires emploi "
        f"et création), au {SCHEMA}. Public, sans authentification, en lecture seule.",
    )
)
class CatalogueStructureList(CatalogueList):
    serializer_class = CatalogueStructureSerializer

    def get_queryset(self):
        return catalogue.structures_published()

    @staticmethod
    def emails_of(page):
        return [organisation.email for organisation in page]


@extend_schema_view(
    get=extend_schema(
        tags=["catalogue"],
        auth=[],
        summary="Services du catalogue ouvert",
        description=f"Les services actifs et ouverts au public des structures publiées, hors suspension en cours, "
        f"au {SCHEMA}. Public, sans authentification, en lecture seule.",
    )
)
class CatalogueServiceList(CatalogueList):
    serializer_class = CatalogueServiceSerializer

    def get_queryset(self):
        return catalogue.services_published()

    @staticmethod
    def emails_of(page):
        return [service.email for service in page]

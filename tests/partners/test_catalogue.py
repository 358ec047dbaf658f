"""The open catalogue: its export validates with the published data·inclusion schema package, holds
no personal data and only what is offered to the public; its import is idempotent by source id."""

import datetime
import importlib.metadata
import io
import json
from pathlib import Path
from unittest import mock

import pytest
import time_machine
import yaml
from data_inclusion.schema import v1
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from network.errors import ActionForbidden, ValidationFailed
from partners import catalogue
from partners.models import Organisation, Service
from partners.services.organisations import organisation_update
from partners.services.services import service_update
from tests.partners.factories import OrganisationFactory, ServiceFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

STRUCTURES = "/api/v1/catalogue/structures/"
SERVICES = "/api/v1/catalogue/services/"
SAMPLE = Path(__file__).parent / "data" / "catalogue_sample.json"
SAMPLE_STRUCTURES = {"dora--adie-aube", "dora--mission-locale-troyes", "emplois-de-linclusion--77"}
SAMPLE_SERVICES = {"dora--adie-microcredit", "dora--ml-accompagnement", "emplois-de-linclusion--s77"}


def rows(url, client=None) -> list[dict]:
    response = (client or APIClient()).get(url + "?page_size=200")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def validated(model, rows_: list[dict]) -> list:
    """Each row through the schema package's model; no key the model does not know (pydantic would
    ignore a misspelt field)."""
    for row in rows_:
        assert set(row) <= set(model.model_fields), set(row) - set(model.model_fields)
    return [model.model_validate(row, context={"ignore_warnings": False}) for row in rows_]


def by_id(rows_: list[dict]) -> dict:
    return {row["id"]: row for row in rows_}


def partner(name, kind=Organisation.Kind.CREATION, **described):
    organisation = OrganisationFactory(name=name, kind=kind)
    if described:
        organisation_update(organisation=organisation, **described)
    return organisation


# ---------------------------------------------------------------------------------------------
# Export


def test_the_structures_validate_with_the_schema_package_and_are_the_organisations_open_to_the_public():
    citeslab = OrganisationFactory(citeslab=True, name="CitésLab Grand Troyes")
    bge = partner(
        "BGE Champagne",
        siret="35223361100432",
        postal_code="10000",
        commune="Troyes",
        phone="03 25 00 00 00",
        website="https://www.bge-champagne.example.org",
        description="Accompagnement des créateurs d'entreprise.",
    )
    organisation_update(organisation=bge, address="4 rue de la Paix\nBâtiment B")
    short = OrganisationFactory(name="ML", kind=Organisation.Kind.EMPLOYMENT)
    coordination = OrganisationFactory(coordination=True, name="Politique de la Ville")
    inactive = OrganisationFactory(name="Ancien partenaire", is_active=False)

    published = rows(STRUCTURES)

    validated(v1.Structure, published)
    ids = [row["id"] for row in published]
    assert ids == [f"relais--{o.pk}" for o in (citeslab, bge, short)]
    assert f"relais--{coordination.pk}" not in ids and f"relais--{inactive.pk}" not in ids
    assert by_id(published)[f"relais--{bge.pk}"] == {
        "source": "relais",
        "id": f"relais--{bge.pk}",
        "nom": "BGE Champagne",
        "date_maj": bge.updated_at.astimezone(datetime.UTC).date().isoformat(),
        "description": "Accompagnement des créateurs d'entreprise.",
        "siret": "35223361100432",
        "adresse": "4 rue de la Paix, Bâtiment B",
        "code_postal": "10000",
        "commune": "Troyes",
        "telephone": "03 25 00 00 00",
        "courriel": bge.email,
        "site_web": "https://www.bge-champagne.example.org",
    }
    # data·inclusion wants a name of 3 characters at least.
    assert by_id(published)[f"relais--{short.pk}"]["nom"] == "ML – Partenaire emploi"


def test_the_services_validate_with_the_schema_package_and_are_the_public_offers_of_today():
    bge = partner("BGE Champagne")
    admin = member_of(bge)
    today = timezone.localdate()
    offered = {
        category: ServiceFactory(
            organisation=bge,
            actor=admin,
            name=f"Service {category}",
            category=category,
            description=f"Un service de la catégorie {category}.",
        )
        for category in Service.Category.values
    }
    ServiceFactory(organisation=bge, actor=admin, name="Réservé au réseau", is_public=False)
    ServiceFactory(organisation=bge, actor=admin, name="Arrêté", is_active=False)
    ServiceFactory(organisation=bge, actor=admin, name="Suspendu", suspended_until=today)
    back = ServiceFactory(organisation=bge, actor=admin, name="De retour", suspended_until=today)
    # Its suspension has since passed (the services refuse a past date: it is yesterday's).
    Service.objects.filter(pk=back.pk).update(suspended_until=today - datetime.timedelta(1))
    gone = partner("Partenaire parti")
    ServiceFactory(organisation=gone, actor=None, name="D'un partenaire parti")
    organisation_update(organisation=gone, is_active=False)
    detailed = ServiceFactory(
        organisation=bge,
        actor=admin,
        name="Atelier CV",
        category=Service.Category.JOB_SEARCH,
        description="CV",
        eligibility_description="Être inscrit à France Travail.",
        email="ateliers@bge.example.org",
        url="https://www.bge-champagne.example.org/ateliers",
        address="4 rue de la Paix",
        postal_code="10000",
        commune="Troyes",
        phone="03 25 00 00 01",
        appointment_url="https://rdv.example.org/bge",
    )

    published = rows(SERVICES)

    validated(v1.Service, published)
    expected = [*offered.values(), back, detailed]
    assert [row["id"] for row in published] == [f"relais--{s.pk}" for s in sorted(expected, key=lambda s: s.pk)]
    structures = {row["id"] for row in rows(STRUCTURES)}
    assert {row["structure_id"] for row in published} <= structures
    assert by_id(published)[f"relais--{detailed.pk}"] == {
        "source": "relais",
        "structure_id": f"relais--{bge.pk}",
        "id": f"relais--{detailed.pk}",
        "nom": "Atelier CV",
        # Shorter than data·inclusion's 5 characters: the category and the name instead.
        "description": "Aide à la recherche d'emploi : Atelier CV",
        "date_maj": detailed.updated_at.astimezone(datetime.UTC).date().isoformat(),
        "type": "accompagnement",
        "thematiques": [
            "preparer-sa-candidature--organiser-ses-demarches-de-recherche-demploi",
            "trouver-un-emploi--faire-des-candidatures-spontanees",
            "trouver-un-emploi--repondre-a-des-offres-demploi",
        ],
        "conditions_acces": "Être inscrit à France Travail.",
        "adresse": "4 rue de la Paix",
        "code_postal": "10000",
        "commune": "Troyes",
        "telephone": "03 25 00 00 01",
        "courriel": "ateliers@bge.example.org",
        "lien_source": "https://www.bge-champagne.example.org/ateliers",
        "lien_mobilisation": "https://rdv.example.org/bge",
        "modes_mobilisation": ["envoyer-un-courriel", "telephoner", "utiliser-lien-mobilisation"],
    }
    creation = by_id(published)[f"relais--{offered[Service.Category.CREATION_SUPPORT].pk}"]
    assert (creation["type"], creation["thematiques"]) == (
        "accompagnement",
        [
            "creer-une-entreprise--definir-son-projet-de-creation-dentreprise",
            "creer-une-entreprise--structurer-son-projet-de-creation-dentreprise",
        ],
    )
    other = by_id(published)[f"relais--{offered[Service.Category.OTHER].pk}"]
    assert (other["type"], other["thematiques"]) == (None, None)


def test_the_published_schema_version_is_the_installed_package():
    assert importlib.metadata.version("data-inclusion-schema") == catalogue.SCHEMA_VERSION


def test_every_category_maps_to_codes_of_the_schema_and_comes_back_from_them():
    assert set(catalogue.CATEGORY_OFFER) == set(Service.Category)
    lossy = {Service.Category.MICROCREDIT: "funding", Service.Category.ACTIVITY_TEST: "creation_support"}
    for category, (kind, thematiques) in catalogue.CATEGORY_OFFER.items():
        assert kind is None or v1.TypeService(kind)
        assert {v1.Thematique(thematique).value for thematique in thematiques} == set(thematiques)
        assert catalogue.category_of(kind, thematiques) == lossy.get(category, category)
    assert catalogue.CREATION_NETWORKS <= {network.value for network in v1.ReseauPorteur}


def test_the_catalogue_holds_no_personal_data(world):
    # A service whose e-mail is a member's own address: a person's, left out.
    service_update(service=world.service, actor=None, email=world.users["receiver_staff"].email.upper())

    content = APIClient().get(STRUCTURES).content.decode() + APIClient().get(SERVICES).content.decode()

    people = [world.holder, world.accepted.project_holder, world.spare_holder]
    private = [world.referral.motive] + [p.first_name for p in people] + [p.last_name for p in people]
    for user in world.users.values():
        private += [user.email, user.first_name, user.last_name]
    assert [text for text in private if text.lower() in content.lower()] == []
    assert by_id(rows(SERVICES))[f"relais--{world.service.pk}"]["courriel"] is None
    # The organisations' contact addresses are theirs, and published.
    assert by_id(rows(STRUCTURES))[f"relais--{world.partner.pk}"]["courriel"] == world.partner.email


def test_an_address_that_is_an_accounts_username_is_a_persons_and_left_out():
    # Accounts are named after their address; this one's e-mail has since changed.
    UserFactory(username="jean.dupont@bge.example.org", email="jean@ailleurs.example.org")
    bge = partner("BGE Champagne")
    organisation_update(organisation=bge, email="Jean.Dupont@bge.example.org")
    service = ServiceFactory(organisation=bge, actor=None, email="JEAN.DUPONT@bge.example.org")

    assert rows(STRUCTURES)[0]["courriel"] is None
    assert by_id(rows(SERVICES))[f"relais--{service.pk}"]["courriel"] is None
    assert catalogue.account_emails_among(
        ["Jean.Dupont@bge.example.org", "jean@ailleurs.example.org", "contact@bge.example.org"]
    ) == {"jean.dupont@bge.example.org", "jean@ailleurs.example.org"}


def test_date_maj_is_never_in_the_future_for_a_validator_on_utc():
    # 00:30 in Paris is still the day before in UTC, where date.today() of a validator may run.
    with time_machine.travel(datetime.datetime(2026, 3, 10, 23, 30, tzinfo=datetime.UTC), tick=False):
        bge = partner("BGE Champagne")
        ServiceFactory(organisation=bge, actor=None)
        structures, services = rows(STRUCTURES), rows(SERVICES)
        validated(v1.Structure, structures)
        validated(v1.Service, services)

    assert structures[0]["date_maj"] == services[0]["date_maj"] == "2026-03-10"


def test_the_catalogue_is_open_without_authentication_and_ignores_credentials(world):
    anonymous = rows(STRUCTURES)
    authenticated = world.client("receiver_admin")
    assert rows(STRUCTURES, authenticated) == anonymous
    bad_token = APIClient()
    bad_token.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert rows(SERVICES, bad_token) == rows(SERVICES)


@pytest.mark.parametrize("url", [STRUCTURES, SERVICES])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_catalogue_is_read_only(world, url, method):
    response = getattr(world.client("receiver_admin"), method)(url, data={}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize("url", [STRUCTURES, SERVICES])
def test_the_catalogue_is_throttled_per_client_address(settings, url):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"catalogue": "2/minute"}}
    client = APIClient()

    statuses = [client.get(url, REMOTE_ADDR="192.0.2.1").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert client.get(url, REMOTE_ADDR="192.0.2.2").status_code == 200


def add_catalogue_rows(count):
    for _ in range(count):
        organisation = partner(f"Partenaire {Organisation.objects.count()}", siret="35223361100432")
        ServiceFactory(organisation=organisation, actor=None, email="contact@example.org")
        ServiceFactory(organisation=organisation, actor=None, suspended_until=timezone.localdate())


@pytest.mark.parametrize("url", [STRUCTURES, SERVICES])
def test_query_count_does_not_grow_with_rows(django_assert_num_queries, url):
    # The count, the page's ids, its rows, and which of its e-mails are accounts' addresses.
    add_catalogue_rows(2)
    with django_assert_num_queries(4):
        small = APIClient().get(url)
    add_catalogue_rows(10)
    with django_assert_num_queries(4):
        large = APIClient().get(url)

    assert small.json()["count"] == 2
    assert large.json()["count"] == 12


def test_the_catalogue_is_paginated_like_the_other_lists():
    add_catalogue_rows(3)

    page = APIClient().get(SERVICES + "?page_size=2").json()

    assert (page["count"], len(page["results"])) == (3, 2)
    assert "page=2" in page["next"]


def test_the_openapi_schema_describes_the_catalogue_as_public():
    schema = yaml.safe_load(APIClient().get("/api/schema/").content)

    for path in (STRUCTURES, SERVICES):
        operation = schema["paths"][path]["get"]
        assert operation["tags"] == ["catalogue"]
        assert "security" not in operation  # no global security: nothing to send
        assert set(operation["responses"]) == {"200", "400", "404", "429"}
        assert set(schema["paths"][path]) == {"get"}
    structure = schema["components"]["schemas"]["CatalogueStructure"]["properties"]
    assert set(structure) <= set(v1.Structure.model_fields)
    service = schema["components"]["schemas"]["CatalogueService"]["properties"]
    assert set(service) <= set(v1.Service.model_fields)


# ---------------------------------------------------------------------------------------------
# Import


def run_import(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("catalogue_import", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def imported():
    return (
        {o.source_id: o for o in Organisation.objects.exclude(source_id="")},
        {s.source_id: s for s in Service.objects.exclude(source_id="")},
    )


def structure_in_file(id_, nom, **fields) -> dict:
    return {"source": "dora", "id": id_, "nom": nom, "date_maj": "2025-01-01", **fields}


def service_in_file(id_, structure_id, nom="Atelier collectif", **fields) -> dict:
    return {
        "source": "dora",
        "structure_id": structure_id,
        "id": id_,
        "nom": nom,
        "description": "Un atelier pour préparer ses candidatures.",
        "date_maj": "2025-01-01",
        **fields,
    }


def import_rows(tmp_path, structures=(), services=()) -> tuple[str, str]:
    """``catalogue_import`` of a file of these rows: its output and its report of problems."""
    file = tmp_path / "catalogue.json"
    file.write_text(json.dumps({"structures": list(structures), "services": list(services)}))
    return run_import(file)


def test_importing_the_sample_twice_creates_its_organisations_and_services_once():
    organisations_before, services_before = Organisation.objects.count(), Service.objects.count()

    first, _ = run_import(SAMPLE)
    second, _ = run_import(SAMPLE)

    assert Organisation.objects.count() == organisations_before + 3
    assert Service.objects.count() == services_before + 3
    structures, services = imported()
    assert set(structures) == SAMPLE_STRUCTURES and set(services) == SAMPLE_SERVICES
    assert "Structures : 3 créé(s), 0 mis à jour, 0 inchangé(s), 1 ignoré(s)" in first
    assert "Services : 3 créé(s), 0 mis à jour, 0 inchangé(s), 2 ignoré(s)" in first
    assert "Structures : 0 créé(s), 0 mis à jour, 3 inchangé(s), 1 ignoré(s)" in second
    assert "Services : 0 créé(s), 0 mis à jour, 3 inchangé(s), 2 ignoré(s)" in second


def test_an_import_maps_the_schema_fields_onto_organisations_and_services():
    run_import(SAMPLE)

    structures, services = imported()
    adie = structures["dora--adie-aube"]
    assert (adie.source, adie.name, adie.kind, adie.is_active) == ("dora", "Adie Aube", "creation", True)
    assert (adie.address, adie.postal_code, adie.commune) == (
        "12 rue du Général de Gaulle, 2e étage",
        "10000",
        "Troyes",
    )
    assert (adie.siret, adie.phone, adie.email) == ("35223361100432", "09 69 32 81 10", "aube@adie.example.org")
    assert adie.website == "https://www.adie.org/"
    assert adie.memberships.count() == 0
    # The kind: a creation network, else most of its services; else employment.
    assert structures["dora--mission-locale-troyes"].kind == "employment"
    assert structures["emplois-de-linclusion--77"].kind == "creation"
    microcredit = services["dora--adie-microcredit"]
    assert (microcredit.organisation, microcredit.source, microcredit.category) == (adie, "dora", "funding")
    assert microcredit.eligibility_description == "Avoir un projet de création d'entreprise."
    assert microcredit.appointment_url == "https://www.adie.org/prendre-rendez-vous/"
    assert (microcredit.is_active, microcredit.is_public) == (True, True)
    youth = services["dora--ml-accompagnement"]
    assert youth.category == "job_search"
    assert youth.eligibility_description == "Avoir entre 16 et 25 ans.\nJeunes sortis du système scolaire."
    assert youth.email == "emploi@ml-troyes.example.org"
    assert services["emplois-de-linclusion--s77"].category == "creation_support"


def test_the_imported_rows_are_published_with_their_source_and_id():
    run_import(SAMPLE)

    structures, services = rows(STRUCTURES), rows(SERVICES)

    validated(v1.Structure, structures)
    validated(v1.Service, services)
    assert {row["id"] for row in structures} == SAMPLE_STRUCTURES
    assert by_id(structures)["dora--adie-aube"]["source"] == "dora"
    assert by_id(services)["dora--adie-microcredit"]["structure_id"] == "dora--adie-aube"
    assert by_id(services)["emplois-de-linclusion--s77"]["source"] == "emplois-de-linclusion"


def test_a_changed_file_updates_the_rows_and_only_them(tmp_path):
    run_import(SAMPLE)
    structures_before, services_before = imported()
    sample = json.loads(SAMPLE.read_text())
    sample["structures"][0]["nom"] = "Adie Champagne"
    sample["structures"][0]["telephone"] = "03 25 11 11 11"
    sample["services"][1]["description"] = "Un conseiller suit le jeune jusqu'à l'emploi."
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(sample))

    out, _ = run_import(changed)

    structures, services = imported()
    assert (structures["dora--adie-aube"].name, structures["dora--adie-aube"].phone) == (
        "Adie Champagne",
        "03 25 11 11 11",
    )
    assert services["dora--ml-accompagnement"].description == "Un conseiller suit le jeune jusqu'à l'emploi."
    assert "Structures : 0 créé(s), 1 mis à jour, 2 inchangé(s)" in out
    assert "Services : 0 créé(s), 1 mis à jour, 2 inchangé(s)" in out
    # An unchanged row is not written: its date_maj stays.
    for key in ("dora--mission-locale-troyes", "emplois-de-linclusion--77"):
        assert structures[key].updated_at == structures_before[key].updated_at
    assert services["dora--adie-microcredit"].updated_at == services_before["dora--adie-microcredit"].updated_at


def test_an_update_keeps_the_local_choices(tmp_path):
    run_import(SAMPLE)
    service = Service.objects.get(source_id="dora--adie-microcredit")
    service_update(service=service, actor=None, is_public=False, suspended_until=timezone.localdate())
    sample = json.loads(SAMPLE.read_text())
    sample["services"][0]["nom"] = "Microcrédit"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(sample))

    run_import(changed, "--kind", "employment")

    service.refresh_from_db()
    assert (service.name, service.is_public, service.suspended_until) == ("Microcrédit", False, timezone.localdate())
    assert service.organisation.kind == "creation"


def test_invalid_rows_are_reported_and_skipped_the_others_imported():
    _, err = run_import(SAMPLE)

    problems = err.splitlines()
    assert problems[0].startswith("structure n° 4 (dora--sans-nom) : nom : String should have at least 3 characters")
    assert "code_postal" in problems[0]
    assert problems[1].startswith("service n° 4 (dora--ml-sans-description) : description : Field required")
    assert problems[2] == "service n° 5 (dora--sans-nom-atelier) : structure inconnue : dora--sans-nom"
    assert len(problems) == 3
    assert not Organisation.objects.filter(source_id="dora--sans-nom").exists()
    assert set(imported()[1]) == SAMPLE_SERVICES


def test_a_structure_whose_name_is_taken_gets_its_commune_or_is_skipped():
    own = OrganisationFactory(name="Adie Aube")
    OrganisationFactory(name="Mission Locale de Troyes")
    OrganisationFactory(name="Mission Locale de Troyes (Troyes)")

    _, err = run_import(SAMPLE)

    structures, services = imported()
    assert structures["dora--adie-aube"].name == "Adie Aube (Troyes)"
    assert structures["dora--adie-aube"] != own and own.source_id == ""
    assert "dora--mission-locale-troyes" not in structures
    assert "structure n° 2 (dora--mission-locale-troyes) : une autre organisation s'appelle déjà" in err
    assert "service n° 2 (dora--ml-accompagnement) : structure inconnue" in err
    # Imported again: the same organisations, the suffixed name kept.
    run_import(SAMPLE)
    assert imported()[0]["dora--adie-aube"].name == "Adie Aube (Troyes)"
    assert Organisation.objects.filter(name__istartswith="Adie Aube").count() == 2


def test_the_kind_option_sets_the_kind_of_the_created_organisations():
    run_import(SAMPLE, "--kind", "employment")

    assert {o.kind for o in imported()[0].values()} == {"employment"}


def test_a_dry_run_writes_nothing():
    before = Organisation.objects.count(), Service.objects.count()

    out, _ = run_import(SAMPLE, "--dry-run")

    assert (Organisation.objects.count(), Service.objects.count()) == before
    assert "Structures : 3 créé(s)" in out
    assert "Essai à blanc" in out


def test_a_list_of_structures_and_a_services_file_are_imported_alike(tmp_path):
    sample = json.loads(SAMPLE.read_text())
    structures, services = tmp_path / "structures.json", tmp_path / "services.json"
    structures.write_text(json.dumps(sample["structures"]))
    services.write_text(json.dumps(sample["services"]))

    run_import(structures, "--services", services)

    assert (set(imported()[0]), set(imported()[1])) == (SAMPLE_STRUCTURES, SAMPLE_SERVICES)


def test_a_file_of_another_shape_is_refused(tmp_path):
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"items": []}))

    with pytest.raises(CommandError, match="liste de structures attendu"):
        run_import(wrong)
    with pytest.raises(CommandError, match="JSON invalide"):
        wrong.write_text("{")
        run_import(wrong)


def test_a_failure_that_is_not_a_row_leaves_nothing_half_imported():
    before = Organisation.objects.count(), Service.objects.count()
    real = catalogue.service_create
    calls = []

    def fail_on_the_second(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("database gone")
        return real(**kwargs)

    with mock.patch.object(catalogue, "service_create", fail_on_the_second):
        with pytest.raises(RuntimeError):
            run_import(SAMPLE)

    assert (Organisation.objects.count(), Service.objects.count()) == before


def test_our_own_published_rows_are_not_imported_back(tmp_path):
    bge = partner("BGE Champagne")
    ServiceFactory(organisation=bge, actor=None)
    exported = tmp_path / "ours.json"
    exported.write_text(json.dumps({"structures": rows(STRUCTURES), "services": rows(SERVICES)}))

    out, err = run_import(exported)

    assert "Structures : 0 créé(s), 0 mis à jour, 0 inchangé(s), 1 ignoré(s)" in out
    assert "publiée par cette instance" in err
    assert Organisation.objects.count() == 1


def test_another_instance_imports_our_catalogue_under_its_own_source(tmp_path, settings):
    bge = partner("BGE Champagne")
    service = ServiceFactory(organisation=bge, actor=None)
    structures, services = rows(STRUCTURES), rows(SERVICES)
    structures[0]["nom"] = "BGE Reims"
    exported = tmp_path / "ours.json"
    exported.write_text(json.dumps({"structures": structures, "services": services}))
    settings.CATALOGUE_SOURCE = "relais-reims"

    out, _ = run_import(exported)

    assert "Structures : 1 créé(s)" in out and "Services : 1 créé(s)" in out
    published = by_id(rows(SERVICES))
    assert set(published) == {f"relais-reims--{service.pk}", f"relais--{service.pk}"}
    assert published[f"relais--{service.pk}"]["source"] == "relais"
    assert published[f"relais-reims--{service.pk}"]["structure_id"] == f"relais-reims--{bge.pk}"


def test_the_catalogue_fields_of_an_organisation_are_checked_and_written_by_its_admin():
    bge = partner("BGE Champagne")
    admin, member = member_of(bge), member_of(bge)

    organisation_update(organisation=bge, actor=admin, siret="35223361100432", website="https://bge.example.org")

    assert (bge.siret, bge.website) == ("35223361100432", "https://bge.example.org")
    for wrong in ({"siret": "3522336110043"}, {"postal_code": "1O000"}, {"website": "bge.example.org"}):
        with pytest.raises(ValidationFailed):
            organisation_update(organisation=bge, actor=admin, **wrong)
    with pytest.raises(ActionForbidden):
        organisation_update(organisation=bge, actor=member, phone="03 25 00 00 00")
    bge.refresh_from_db()
    assert (bge.siret, bge.postal_code, bge.phone) == ("35223361100432", "", "")


def test_structures_whose_long_names_begin_alike_are_both_imported(tmp_path):
    start = ("Association intercommunale pour l'insertion et l'emploi " * 3)[:140]

    out, err = import_rows(
        tmp_path, [structure_in_file("dora--nord", f"{start} Nord"), structure_in_file("dora--sud", f"{start} Sud")]
    )

    assert "Structures : 2 créé(s), 0 mis à jour, 0 inchangé(s), 0 ignoré(s)" in out
    assert err == ""
    structures, _ = imported()
    assert structures["dora--nord"].name == f"{start} Nord"
    assert structures["dora--nord"].group != structures["dora--sud"].group


def test_rows_whose_identifiers_are_blank_or_do_not_fit_our_columns_are_reported_and_skipped(tmp_path):
    long_id, other_long_id = "dora--" + "x" * 195, "dora--" + "y" * 195
    long_source = {**structure_in_file("dora--a", "Structure à la source trop longue"), "source": "s" * 101}
    blank_source = {**structure_in_file("dora--b", "Structure sans source"), "source": "  "}

    out, err = import_rows(
        tmp_path,
        [
            structure_in_file(" ", "Structure sans identifiant"),
            long_source,
            structure_in_file(long_id, "Structure à l'identifiant trop long"),
            blank_source,
            structure_in_file("dora--ok", "Structure valable"),
        ],
        [
            service_in_file("", "dora--ok"),
            service_in_file("dora--s1", " "),
            service_in_file("dora--s2", long_id),
            service_in_file(other_long_id, "dora--ok"),
            service_in_file("dora--s3", "dora--ok"),
        ],
    )

    assert err.splitlines() == [
        "structure n° 1 : id : vide",
        "structure n° 2 (dora--a) : source : plus de 100 caractères (il en compte 101)",
        f"structure n° 3 ({long_id}) : id : plus de 200 caractères (il en compte 201)",
        "structure n° 4 (dora--b) : source : vide",
        "service n° 1 : id : vide",
        "service n° 2 (dora--s1) : structure_id : vide",
        "service n° 3 (dora--s2) : structure_id : plus de 200 caractères (il en compte 201)",
        f"service n° 4 ({other_long_id}) : id : plus de 200 caractères (il en compte 201)",
    ]
    assert "Structures : 1 créé(s), 0 mis à jour, 0 inchangé(s), 4 ignoré(s)" in out
    assert "Services : 1 créé(s), 0 mis à jour, 0 inchangé(s), 4 ignoré(s)" in out
    structures, services = imported()
    assert (set(structures), set(services)) == ({"dora--ok"}, {"dora--s3"})
    assert Organisation.objects.count() == 1


def test_a_row_whose_source_and_id_come_again_in_the_file_is_imported_once_the_later_reported(tmp_path):
    out, err = import_rows(
        tmp_path,
        [
            structure_in_file("dora--a", "Structure un"),
            structure_in_file("dora--a", "Structure deux"),
            {**structure_in_file("dora--a", "Structure trois"), "source": "emplois-de-linclusion"},
        ],
        [service_in_file("dora--s", "dora--a"), service_in_file("dora--s", "dora--a", nom="Autre atelier")],
    )

    assert err.splitlines() == [
        "structure n° 2 (dora--a) : en double : même source et même identifiant qu'au n° 1",
        "service n° 2 (dora--s) : en double : même source et même identifiant qu'au n° 1",
    ]
    assert "Structures : 2 créé(s), 0 mis à jour, 0 inchangé(s), 1 ignoré(s)" in out
    assert "Services : 1 créé(s), 0 mis à jour, 0 inchangé(s), 1 ignoré(s)" in out
    assert Organisation.objects.get(source="dora", source_id="dora--a").name == "Structure un"
    assert Organisation.objects.get(source="emplois-de-linclusion", source_id="dora--a").name == "Structure trois"
    assert Service.objects.get(source_id="dora--s").name == "Atelier collectif"


def test_a_name_with_surrounding_spaces_is_unchanged_when_imported_again(tmp_path):
    structures = [structure_in_file("dora--a", " Structure un ", commune=" Troyes ")]
    services = [service_in_file("dora--s", "dora--a", nom="  Atelier collectif ")]
    import_rows(tmp_path, structures, services)

    out, _ = import_rows(tmp_path, structures, services)

    assert "Structures : 0 créé(s), 0 mis à jour, 1 inchangé(s), 0 ignoré(s)" in out
    assert "Services : 0 créé(s), 0 mis à jour, 1 inchangé(s), 0 ignoré(s)" in out
    organisation = Organisation.objects.get(source_id="dora--a")
    assert (organisation.name, organisation.commune) == ("Structure un", "Troyes")


@pytest.mark.parametrize("website", ["https://mon_site.example.fr", "http://intranet/"])
def test_an_address_the_schema_accepts_and_our_validators_refuse_is_left_blank_and_the_row_imported(tmp_path, website):
    structures = [
        structure_in_file("dora--a", "Structure un", site_web=website, courriel="jérôme@exemple.fr", commune="Troyes")
    ]
    services = [
        service_in_file(
            "dora--s",
            "dora--a",
            courriel="jérôme@exemple.fr",
            lien_source=website,
            lien_mobilisation="https://rdv.example.org/atelier",
        )
    ]
    v1.Structure.model_validate(structures[0])
    v1.Service.model_validate(services[0])

    out, err = import_rows(tmp_path, structures, services)
    again, _ = import_rows(tmp_path, structures, services)

    assert err == ""
    assert "Structures : 1 créé(s), 0 mis à jour, 0 inchangé(s), 0 ignoré(s)" in out
    assert "Services : 1 créé(s), 0 mis à jour, 0 inchangé(s), 0 ignoré(s)" in out
    assert "Structures : 0 créé(s), 0 mis à jour, 1 inchangé(s)" in again
    organisation = Organisation.objects.get(source_id="dora--a")
    assert (organisation.website, organisation.email, organisation.commune) == ("", "", "Troyes")
    service = Service.objects.get(source_id="dora--s")
    assert (service.email, service.url, service.appointment_url) == ("", "", "https://rdv.example.org/atelier")


def test_a_file_with_a_byte_order_mark_is_read(tmp_path):
    file = tmp_path / "catalogue.json"
    content = {"structures": [structure_in_file("dora--a", "Structure un")], "services": []}
    file.write_bytes(b"\xef\xbb\xbf" + json.dumps(content).encode())

    out, err = run_import(file)

    assert "Structures : 1 créé(s)" in out and err == ""
    assert set(imported()[0]) == {"dora--a"}


def test_a_file_nested_too_deeply_is_refused_in_words(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)

    # A CommandError, as for any invalid JSON: exit code 1 and this sentence, no traceback.
    with pytest.raises(CommandError, match=r"deep\.json : JSON invalide : trop d'imbrications\.$"):
        run_import(deep)


def test_a_service_another_relais_added_to_a_structure_it_imported_is_imported_into_that_structure(tmp_path, settings):
    import_rows(tmp_path, [structure_in_file("dora--a", "Structure un")])
    local = ServiceFactory(organisation=Organisation.objects.get(source_id="dora--a"), actor=None, name="Atelier local")
    exported = tmp_path / "relais.json"
    exported.write_text(json.dumps({"structures": rows(STRUCTURES), "services": rows(SERVICES)}))
    assert (rows(SERVICES)[0]["source"], rows(SERVICES)[0]["structure_id"]) == ("relais", "dora--a")
    # Another Relais, on a database of its own (this one emptied).
    settings.CATALOGUE_SOURCE = "relais-reims"
    Service.objects.all().delete()
    Organisation.objects.all().delete()

    out, err = run_import(exported)

    assert err == ""
    assert "Services : 1 créé(s), 0 mis à jour, 0 inchangé(s), 0 ignoré(s)" in out
    service = Service.objects.get()
    assert (service.source, service.source_id, service.name) == ("relais", f"relais--{local.pk}", "Atelier local")
    assert (service.organisation.source, service.organisation.source_id) == ("dora", "dora--a")
    assert "Services : 0 créé(s), 0 mis à jour, 1 inchangé(s)" in run_import(exported)[0]


def test_a_service_of_one_of_our_own_organisations_or_of_an_ambiguous_id_is_reported_and_skipped(tmp_path):
    bge = partner("BGE Champagne")
    import_rows(
        tmp_path,
        [
            structure_in_file("reseau--1", "Structure de Dora"),
            {**structure_in_file("reseau--1", "Structure des emplois"), "source": "emplois-de-linclusion"},
        ],
    )
    elsewhere = {"source": "relais-reims"}

    _, err = import_rows(
        tmp_path,
        services=[
            {**service_in_file("relais-reims--1", f"relais--{bge.pk}"), **elsewhere},
            {**service_in_file("relais-reims--2", "reseau--1"), **elsewhere},
            {**service_in_file("relais-reims--3", "relais--999999"), **elsewhere},
        ],
    )

    assert err.splitlines() == [
        f"service n° 1 (relais-reims--1) : structure de cette instance (relais--{bge.pk}) : "
        "un fichier n'ajoute pas de service à ses organisations",
        "service n° 2 (relais-reims--2) : structure ambiguë : plusieurs structures importées ont l'identifiant reseau--1",
        "service n° 3 (relais-reims--3) : structure inconnue : relais--999999",
    ]
    assert not Service.objects.exists()


def test_rows_absent_from_a_later_file_are_left_as_they_are(tmp_path):
    import_rows(tmp_path, [structure_in_file("dora--a", "Structure un")], [service_in_file("dora--s", "dora--a")])

    out, _ = import_rows(tmp_path, [structure_in_file("dora--a", "Structure un")])

    assert "Services : 0 créé(s), 0 mis à jour, 0 inchangé(s), 0 ignoré(s)" in out
    service = Service.objects.get(source_id="dora--s")
    assert (service.is_active, service.is_public) == (True, True)
    assert [row["id"] for row in rows(SERVICES)] == ["dora--s"]

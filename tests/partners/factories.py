import factory
from django.contrib.auth import get_user_model

from partners.models import Membership, Neighbourhood, Organisation, Service
from partners.services.memberships import membership_add
from partners.services.organisations import organisation_create
from partners.services.services import service_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.Factory):
    """Organisations are made by the service, so each gets its Group (and permissions)."""

    class Meta:
        model = Organisation

    class Params:
        citeslab = factory.Trait(kind=Organisation.Kind.CITESLAB)
        employment = factory.Trait(kind=Organisation.Kind.EMPLOYMENT)
        coordination = factory.Trait(kind=Organisation.Kind.COORDINATION)

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.CREATION
    # A partner without members is reached at its contact address (referrals/links.py).
    email = factory.Sequence(lambda n: f"contact{n}@example.org")
    sla_days = 10

    @classmethod
    def _create(cls, model_class, **kwargs):
        return organisation_create(**kwargs)


class MembershipFactory(factory.Factory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return membership_add(**kwargs)


def member_of(organisation: Organisation, *, role: str | None = None, **user_fields):
    """A new user with an active membership of ``organisation``."""
    return MembershipFactory(organisation=organisation, user=UserFactory(**user_fields), role=role).user


class NeighbourhoodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Neighbourhood

    name = factory.Sequence(lambda n: f"Quartier {n}")
    commune = "Troyes"


class ServiceFactory(factory.Factory):
    class Meta:
        model = Service

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    category = Service.Category.CREATION_SUPPORT
    description = "Accompagnement"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return service_create(**kwargs)

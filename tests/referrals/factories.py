import datetime

import factory
from django.utils import timezone

from partners.models import Organisation
from referrals import services
from referrals.models import Consent, ProjectHolder, Referral
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, member_of


class ProjectHolderFactory(factory.Factory):
    """A holder recorded by a CitésLab advisor (both made on the fly unless given)."""

    class Meta:
        model = ProjectHolder

    organisation = factory.SubFactory(OrganisationFactory, citeslab=True)
    actor = factory.LazyAttribute(lambda o: member_of(o.organisation))
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.Sequence(lambda n: f"porteur{n}@example.org")
    phone = "06 12 34 56 78"
    neighbourhood = factory.SubFactory(NeighbourhoodFactory)
    situation = ProjectHolder.Situation.JOB_SEEKER
    project_summary = "Ouvrir un food truck"
    stage = ProjectHolder.Stage.IDEA

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.project_holder_create(**kwargs)


class ConsentFactory(factory.Factory):
    class Meta:
        model = Consent

    holder = factory.SubFactory(ProjectHolderFactory)
    actor = factory.LazyAttribute(lambda o: o.holder.created_by)
    organisation = factory.LazyAttribute(lambda o: o.holder.created_by_organisation)
    method = Consent.Method.ORAL
    purpose = "Orientation vers les partenaires de la création d'entreprise"
    policy_version = "2026-01"
    scope_organisations = ()
    scope_kinds = (Organisation.Kind.EMPLOYMENT, Organisation.Kind.CREATION)
    given_at = None
    expires_at = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.consent_record(**kwargs)


class ReferralFactory(factory.Factory):
    """A referral sent by the holder's advisor under a fresh consent, then moved along ``path``.

    Traits name the status reached: ``ReferralFactory(accepted=True)``.
    """

    class Meta:
        model = Referral

    class Params:
        accepted = factory.Trait(path=("accept",))
        in_progress = factory.Trait(path=("accept", "start"))
        completed = factory.Trait(path=("accept", "start", "complete"))
        declined = factory.Trait(path=("decline",))
        cancelled = factory.Trait(path=("cancel",))
        expired = factory.Trait(path=("expire",))

    holder = factory.SubFactory(ProjectHolderFactory)
    to_organisation = factory.SubFactory(OrganisationFactory)
    receiver = factory.LazyAttribute(lambda o: member_of(o.to_organisation))
    motive = "Besoin d'un accompagnement au montage du projet"
    service = None
    with_consent = True
    path = ()

    @classmethod
    def _create(cls, model_class, *, holder, to_organisation, receiver, motive, service, with_consent, path):
        advisor, citeslab = holder.created_by, holder.created_by_organisation
        if with_consent:
            ConsentFactory(holder=holder, scope_kinds=(), scope_organisations=[to_organisation])
        referral = services.referral_send(
            holder=holder,
            actor=advisor,
            organisation=citeslab,
            to_organisation=to_organisation,
            motive=motive,
            service=service,
        )
        receiving = {"actor": receiver, "organisation": to_organisation}
        for step in path:
            referral.refresh_from_db()
            if step == "accept":
                services.referral_accept(referral=referral, **receiving)
            elif step == "start":
                services.referral_start(referral=referral, **receiving)
            elif step == "complete":
                services.referral_complete(
                    referral=referral, outcome=Referral.Outcome.PROJECT_VALIDATED, comment="Projet validé", **receiving
                )
            elif step == "decline":
                services.referral_decline(referral=referral, reason=Referral.DeclineReason.NO_CAPACITY, **receiving)
            elif step == "cancel":
                services.referral_cancel(
                    referral=referral,
                    actor=advisor,
                    organisation=citeslab,
                    reason=Referral.CancelReason.SENT_BY_MISTAKE,
                )
            elif step == "expire":
                services.referral_expire(referral=referral)
        referral.refresh_from_db()
        referral.receiver = receiver
        return referral


def expired_consent(holder, to_organisation):
    past = timezone.now() - datetime.timedelta(days=400)
    return ConsentFactory(
        holder=holder,
        scope_kinds=(),
        scope_organisations=[to_organisation],
        given_at=past,
        expires_at=past + datetime.timedelta(days=365),
    )

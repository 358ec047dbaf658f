"""Who acts without an account."""

from dataclasses import dataclass

from partners.models import Organisation, link_actor_name

from .models import Referral


@dataclass(frozen=True)
class LinkActor:
    """Someone acting through a signed link (DESIGN.md section 11): no account, the receiving
    ``organisation``, the address the link was sent to, on one referral, with the link version the
    link carries (``referrals.links`` reads them from a valid link).

    The services take it as their ``actor`` and record it with no user and ``email``
    (``services.acting.actor_columns``). It is named like a user (``get_full_name``, so
    ``partners.models.display_name`` names it "via lien e-mail (…)"), has no ``pk`` (it is never
    told of its own action) and is not authenticated: any check of a membership refuses it.
    """

    organisation: Organisation
    email: str
    referral_id: int
    version: int

    pk = None
    is_authenticated = False

    def get_full_name(self) -> str:
        return link_actor_name(self.email)

    def get_username(self) -> str:
        return self.email

    def acts_for(self, organisation: Organisation, referral: Referral) -> bool:
        """Its organisation, still active, on its referral, whose sender has not revoked the links
        since (``Referral.link_version`` moved on)."""
        return (
            organisation.pk == self.organisation.pk
            and organisation.is_active
            and referral.pk == self.referral_id
            and referral.link_version == self.version
        )

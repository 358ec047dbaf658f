"""What every write service checks first: that the actor acts for the organisation it names.

The actor is a user, or a ``lifecycle.LinkActor``: a partner without an account acting through a
signed link (DESIGN.md section 11), which acts for the organisation and the referral of its link
while the link's version is current. It is recorded with no user and the address the link was sent
to (``actor_columns``).
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.errors import ActionForbidden
from partners.models import Organisation
from partners.selectors import is_active_member

from ..access import holder_access
from ..actors import LinkActor
from ..models import ProjectHolder, Referral

LINK_NO_LONGER_VALID = gettext_lazy("Ce lien e-mail ne permet plus d'agir sur cette orientation.")


def acts_for(actor, organisation: Organisation, referral: Referral | None = None) -> bool:
    """An active member of ``organisation``, or a link actor of it on ``referral`` with a current link."""
    if isinstance(actor, LinkActor):
        return referral is not None and actor.acts_for(organisation, referral)
    return is_active_member(actor, organisation)


def require_member(actor, organisation: Organisation, *, referral: Referral | None = None) -> None:
    if not acts_for(actor, organisation, referral):
        if isinstance(actor, LinkActor):
            raise ActionForbidden(LINK_NO_LONGER_VALID)
        raise ActionForbidden(_("Vous n'agissez pas pour le compte de « %(org)s ».") % {"org": organisation})


def require_holder_manager(actor, holder: ProjectHolder, organisation: Organisation) -> None:
    """``actor`` acts for ``organisation``, and it is the organisation that follows ``holder``."""
    require_member(actor, organisation)
    holder_access(actor, holder, organisation=organisation).require_manages()


def actor_user(actor):
    """The user who acted: None for the system and for a link actor."""
    return None if isinstance(actor, LinkActor) else actor


def actor_columns(actor, *, user: str = "actor", email: str = "actor_email") -> dict:
    """The columns of a row that records who acted (a history step, a note): the user, or no user
    and the link's address."""
    if isinstance(actor, LinkActor):
        return {user: None, email: actor.email}
    return {user: actor}

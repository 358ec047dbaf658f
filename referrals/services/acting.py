"""What every write service checks first: that the actor acts for the organisation it names."""

from django.utils.translation import gettext as _

from network.errors import ActionForbidden
from partners.models import Organisation
from partners.selectors import is_active_member

from ..lifecycle import holder_access
from ..models import ProjectHolder


def require_member(actor, organisation: Organisation) -> None:
    if not is_active_member(actor, organisation):
        raise ActionForbidden(_("Vous n'agissez pas pour le compte de « %(org)s ».") % {"org": organisation})


def require_holder_manager(actor, holder: ProjectHolder, organisation: Organisation) -> None:
    """``actor`` acts for ``organisation``, and it is the organisation that follows ``holder``."""
    require_member(actor, organisation)
    holder_access(actor, holder, organisation=organisation).require_manages()

"""Who edits an intake activity and who reads its notes (DESIGN.md section 5)."""

from django.utils.translation import gettext_lazy as _

from network.errors import ActionForbidden
from partners.models import Organisation

ACTIVITY_MANAGER_ONLY = _("Seul le CitésLab qui a enregistré cette action peut la modifier ou la supprimer.")


def sees_activity_notes(organisation_ids, activity) -> bool:
    """An activity's notes (a free text that may name people) are its CitésLab's only; a
    coordinator counts the activity without them (DESIGN.md section 5). Its history of changes
    (who changed what) too."""
    return activity.organisation_id in organisation_ids


def manages_activity(organisation_ids, activity) -> bool:
    """Its CitésLab edits and deletes an activity; whoever else sees it (a coordinator) reads it."""
    return activity.organisation_id in organisation_ids


def require_activity_manager(organisation_ids, activity) -> Organisation:
    """The CitésLab that edits ``activity``; 403 for anybody else who sees it."""
    if not manages_activity(organisation_ids, activity):
        raise ActionForbidden(ACTIVITY_MANAGER_ONLY)
    return activity.organisation

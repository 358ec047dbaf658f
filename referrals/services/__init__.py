"""Every write of project holders, consents, referrals and intake activities, one module per subject.

Each service is keyword-only, runs in one transaction, checks who may act, and refuses bad input
with a ``network.errors`` exception that leaves the database untouched. Callers import them from
here: ``from referrals import services``; ``services.referral_accept(...)``.
"""

from .activities import activity_delete, activity_record, activity_update
from .consents import consent_record, consent_withdraw
from .holders import project_holder_create, project_holder_erase, project_holder_update
from .links import referral_link_send, referral_links_revoke
from .referrals import (
    referral_accept,
    referral_cancel,
    referral_complete,
    referral_decline,
    referral_escalate,
    referral_expire,
    referral_follow_up_remind,
    referral_mark_viewed,
    referral_remind,
    referral_send,
    referral_stall,
    referral_start,
)

__all__ = [
    "activity_delete",
    "activity_record",
    "activity_update",
    "consent_record",
    "consent_withdraw",
    "project_holder_create",
    "project_holder_erase",
    "project_holder_update",
    "referral_accept",
    "referral_cancel",
    "referral_complete",
    "referral_decline",
    "referral_escalate",
    "referral_expire",
    "referral_follow_up_remind",
    "referral_link_send",
    "referral_links_revoke",
    "referral_mark_viewed",
    "referral_remind",
    "referral_send",
    "referral_stall",
    "referral_start",
]

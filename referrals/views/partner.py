"""The partner's live inbox: referrals addressed to the acting organisation."""

from partners.acting import organisation_page
from partners.models import Organisation

from .lists import referral_list_page


@organisation_page(*Organisation.PARTNER_KINDS)
def inbox(request):
    return referral_list_page(request, "referrals/inbox.html", side="to_organisation")

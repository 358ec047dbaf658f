"""The referrals app's pages and its API (``api_urlpatterns``, under /api/v1/): people, consents,
referrals (both sides, and through a signed link), intake activities, the pipeline and the
reports."""

from django.urls import path

from network import converters  # noqa: F401  registers <id:…>

from .api import activities as activities_api
from .api import holders as holders_api
from .api import pipeline as pipeline_api
from .api import referrals as referrals_api
from .api import reports as reports_api
from .views import activities, consents, coordinator, holders, links, partner, referral, reports, sending

api_urlpatterns = [
    path("project-holders/", holders_api.ProjectHolderList.as_view(), name="api-project-holders"),
    path("project-holders/<uuid:uuid>/", holders_api.ProjectHolderDetail.as_view(), name="api-project-holder"),
    path(
        "project-holders/<uuid:uuid>/erase/", holders_api.ProjectHolderErase.as_view(), name="api-project-holder-erase"
    ),
    path("project-holders/<uuid:uuid>/consents/", holders_api.ConsentList.as_view(), name="api-consents"),
    path("consents/<id:pk>/withdraw/", holders_api.ConsentWithdraw.as_view(), name="api-consent-withdraw"),
    path("referrals/", referrals_api.ReferralList.as_view(), name="api-referrals"),
    path("referrals/<uuid:uuid>/", referrals_api.ReferralDetail.as_view(), name="api-referral"),
    path("referrals/<uuid:uuid>/accept/", referrals_api.ReferralAccept.as_view(), name="api-referral-accept"),
    path("referrals/<uuid:uuid>/decline/", referrals_api.ReferralDecline.as_view(), name="api-referral-decline"),
    path("referrals/<uuid:uuid>/start/", referrals_api.ReferralStart.as_view(), name="api-referral-start"),
    path("referrals/<uuid:uuid>/complete/", referrals_api.ReferralComplete.as_view(), name="api-referral-complete"),
    path("referrals/<uuid:uuid>/cancel/", referrals_api.ReferralCancel.as_view(), name="api-referral-cancel"),
    path("referrals/<uuid:uuid>/events/", referrals_api.ReferralEvents.as_view(), name="api-referral-events"),
    path("activities/", activities_api.ActivityList.as_view(), name="api-activities"),
    path("activities/<id:pk>/", activities_api.ActivityDetail.as_view(), name="api-activity"),
    path("pipeline/", pipeline_api.PipelineView.as_view(), name="api-pipeline"),
    path("reports/referrals.csv", reports_api.ReferralsCsv.as_view(), name="api-report-referrals-csv"),
    path("reports/referrals.xlsx", reports_api.ReferralsXlsx.as_view(), name="api-report-referrals-xlsx"),
    path("reports/activity.csv", reports_api.ActivityCsv.as_view(), name="api-report-activity-csv"),
    path("reports/activity.xlsx", reports_api.ActivityXlsx.as_view(), name="api-report-activity-xlsx"),
    path("reports/summary.xlsx", reports_api.SummaryXlsx.as_view(), name="api-report-summary"),
]

urlpatterns = [
    # the advisor
    path("porteurs/", holders.holder_list, name="holder_list"),
    path("porteurs/nouveau/", holders.holder_create, name="holder_create"),
    path("porteurs/<uuid:uuid>/", holders.holder_detail, name="holder_detail"),
    path("porteurs/<uuid:uuid>/modifier/", holders.holder_update, name="holder_update"),
    path("porteurs/<uuid:uuid>/effacer/", holders.holder_erase, name="holder_erase"),
    path("porteurs/<uuid:uuid>/consentements/", consents.consent_create, name="consent_create"),
    path(
        "porteurs/<uuid:uuid>/consentements/<id:consent_id>/retrait/",
        consents.consent_withdraw,
        name="consent_withdraw",
    ),
    path("porteurs/<uuid:uuid>/orienter/", sending.referral_create, name="referral_create"),
    path("orientations/envoyees/", sending.sent_list, name="sent_list"),
    path("actions/", activities.activity_list, name="activity_list"),
    path("actions/nouvelle/", activities.activity_create, name="activity_create"),
    path("actions/<id:pk>/modifier/", activities.activity_update, name="activity_update"),
    path("actions/<id:pk>/supprimer/", activities.activity_delete, name="activity_delete"),
    # the partner
    path("orientations/recues/", partner.inbox, name="inbox"),
    # both sides of a referral
    path("orientations/<uuid:uuid>/", referral.referral_detail, name="referral_detail"),
    *(
        path(
            f"orientations/<uuid:uuid>/{slug}/",
            referral.referral_transition,
            {"action": action},
            name=f"referral_{action}",
        )
        for action, slug in (
            ("accept", "accepter"),
            ("decline", "refuser"),
            ("start", "demarrer"),
            ("complete", "cloturer"),
            ("cancel", "annuler"),
        )
    ),
    # the sender's signed links
    path("orientations/<uuid:uuid>/liens/revoquer/", links.referral_links, {"action": "revoke"}, name="link_revoke"),
    path("orientations/<uuid:uuid>/liens/envoyer/", links.referral_links, {"action": "send"}, name="link_send"),
    # a partner without an account, through a signed link (no login)
    path("lien/<uuid:uuid>/<str:token>/", links.link_detail, name="link_detail"),
    path("lien/<uuid:uuid>/<str:token>/accepter/", links.link_transition, {"action": "accept"}, name="link_accept"),
    path("lien/<uuid:uuid>/<str:token>/refuser/", links.link_transition, {"action": "decline"}, name="link_decline"),
    path("lien/<uuid:uuid>/<str:token>/notes/", links.link_note, name="link_note"),
    path("lien/<uuid:uuid>/<str:token>/nouveau/", links.link_renew, name="link_renew"),
    # the coordinator
    path("pilotage/", coordinator.dashboard, name="dashboard"),
    # the advisor's CitésLab, the coordination's network
    path("rapport/", reports.report_page, name="report"),
]

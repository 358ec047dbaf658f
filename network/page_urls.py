from django.contrib.auth import views as auth_views
from django.urls import path

from messaging import views as messaging_views
from partners import views as partner_views
from referrals.views import advisor, coordinator, links, partner, referral, reports

from . import converters  # noqa: F401  registers <id:…>

urlpatterns = [
    path("", partner_views.home, name="home"),
    path("login/", partner_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("structure/", partner_views.organisation_switch, name="organisation_switch"),
    # advisor
    path("porteurs/", advisor.holder_list, name="holder_list"),
    path("porteurs/nouveau/", advisor.holder_create, name="holder_create"),
    path("porteurs/<uuid:uuid>/", advisor.holder_detail, name="holder_detail"),
    path("porteurs/<uuid:uuid>/consentements/", advisor.consent_create, name="consent_create"),
    path(
        "porteurs/<uuid:uuid>/consentements/<id:consent_id>/retrait/",
        advisor.consent_withdraw,
        name="consent_withdraw",
    ),
    path("porteurs/<uuid:uuid>/orienter/", advisor.referral_create, name="referral_create"),
    path("orientations/envoyees/", advisor.sent_list, name="sent_list"),
    path("actions/", advisor.activity_list, name="activity_list"),
    path("actions/nouvelle/", advisor.activity_create, name="activity_create"),
    path("actions/<id:pk>/modifier/", advisor.activity_update, name="activity_update"),
    path("actions/<id:pk>/supprimer/", advisor.activity_delete, name="activity_delete"),
    # partner
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
    path("orientations/<uuid:uuid>/notes/", messaging_views.note_create, name="note_create"),
    # the sender's signed links
    path("orientations/<uuid:uuid>/liens/revoquer/", links.referral_links, {"action": "revoke"}, name="link_revoke"),
    path("orientations/<uuid:uuid>/liens/envoyer/", links.referral_links, {"action": "send"}, name="link_send"),
    # a partner without an account, through a signed link (no login)
    path("lien/<uuid:uuid>/<str:token>/", links.link_detail, name="link_detail"),
    path("lien/<uuid:uuid>/<str:token>/accepter/", links.link_transition, {"action": "accept"}, name="link_accept"),
    path("lien/<uuid:uuid>/<str:token>/refuser/", links.link_transition, {"action": "decline"}, name="link_decline"),
    path("lien/<uuid:uuid>/<str:token>/notes/", links.link_note, name="link_note"),
    path("lien/<uuid:uuid>/<str:token>/nouveau/", links.link_renew, name="link_renew"),
    # coordinator
    path("pilotage/", coordinator.dashboard, name="dashboard"),
    # the advisor's CitésLab, the coordination's network
    path("rapport/", reports.report_page, name="report"),
    # issue 13 — notifications and holder pages: every user's notifications and e-mail preferences,
    # the advisor's edit and erasure of a person
    path("notifications/", messaging_views.notification_list, name="notifications"),
    path("notifications/<id:pk>/lue/", messaging_views.notification_read, name="notification_read"),
    path("notifications/toutes-lues/", messaging_views.notifications_read_all, name="notifications_read_all"),
    path("notifications/preferences/", messaging_views.email_preferences, name="email_preferences"),
    path("porteurs/<uuid:uuid>/modifier/", advisor.holder_update, name="holder_update"),
    path("porteurs/<uuid:uuid>/effacer/", advisor.holder_erase, name="holder_erase"),
]

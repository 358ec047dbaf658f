from django.contrib.auth import views as auth_views
from django.urls import path

from messaging import views as messaging_views
from partners.views import accounts as partner_views
from partners.views import members
from partners.views import organisation_settings as settings_pages
from partners.views import services as service_pages
from referrals.views import activities, consents, coordinator, holders, links, partner, referral, reports, sending

from . import converters  # noqa: F401  registers <id:…>

urlpatterns = [
    path("", partner_views.home, name="home"),
    path("login/", partner_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("structure/", partner_views.organisation_switch, name="organisation_switch"),
    # advisor
    path("porteurs/", holders.holder_list, name="holder_list"),
    path("porteurs/nouveau/", holders.holder_create, name="holder_create"),
    path("porteurs/<uuid:uuid>/", holders.holder_detail, name="holder_detail"),
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
    # issue 13 — members and invitations: an organisation's admin manages its members; the
    # invitee's accept page needs no login; password reset for everyone, change when signed in
    path("structure/membres/", members.member_list, name="member_list"),
    path("structure/membres/inviter/", members.invitation_create, name="invitation_create"),
    path("structure/membres/invitations/<id:pk>/renvoyer/", members.invitation_resend, name="invitation_resend"),
    path("structure/membres/invitations/<id:pk>/annuler/", members.invitation_cancel, name="invitation_cancel"),
    path("structure/membres/<id:pk>/desactiver/", members.member_deactivate, name="member_deactivate"),
    path("structure/membres/<id:pk>/reactiver/", members.member_reactivate, name="member_reactivate"),
    path("structure/membres/<id:pk>/role/", members.member_role, name="member_role"),
    path("invitation/<uuid:uuid>/<str:token>/", members.invitation_accept, name="invitation_accept"),
    path("mot-de-passe/oublie/", partner_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "mot-de-passe/oublie/envoye/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/reinitialiser/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/reinitialise/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("mot-de-passe/changer/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("mot-de-passe/change/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # issue 13 — an organisation admin's services and settings
    path("structure/services/", service_pages.service_list, name="service_list"),
    path("structure/services/nouveau/", service_pages.service_create, name="service_create"),
    path("structure/services/<id:pk>/", service_pages.service_update, name="service_update"),
    path("structure/services/<id:pk>/suspendre/", service_pages.service_suspend, name="service_suspend"),
    path("structure/services/<id:pk>/reprendre/", service_pages.service_resume, name="service_resume"),
    path("structure/parametres/", settings_pages.organisation_settings, name="organisation_settings"),
    # issue 13 — notifications and holder pages: every user's notifications and e-mail preferences,
    # the advisor's edit and erasure of a person
    path("notifications/", messaging_views.notification_list, name="notifications"),
    path("notifications/<id:pk>/lue/", messaging_views.notification_read, name="notification_read"),
    path("notifications/toutes-lues/", messaging_views.notifications_read_all, name="notifications_read_all"),
    path("notifications/preferences/", messaging_views.email_preferences, name="email_preferences"),
    path("porteurs/<uuid:uuid>/modifier/", holders.holder_update, name="holder_update"),
    path("porteurs/<uuid:uuid>/effacer/", holders.holder_erase, name="holder_erase"),
]

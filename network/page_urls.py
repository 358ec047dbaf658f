from django.contrib.auth import views as auth_views
from django.urls import path

from messaging import views as messaging_views
from referrals import views as referral_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("structure/", views.organisation_switch, name="organisation_switch"),
    # advisor
    path("porteurs/", referral_views.holder_list, name="holder_list"),
    path("porteurs/nouveau/", referral_views.holder_create, name="holder_create"),
    path("porteurs/<uuid:uuid>/", referral_views.holder_detail, name="holder_detail"),
    path("porteurs/<uuid:uuid>/consentements/", referral_views.consent_create, name="consent_create"),
    path(
        "porteurs/<uuid:uuid>/consentements/<int:consent_id>/retrait/",
        referral_views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("porteurs/<uuid:uuid>/orienter/", referral_views.referral_create, name="referral_create"),
    path("orientations/envoyees/", referral_views.sent_list, name="sent_list"),
    path("actions/", referral_views.activity_list, name="activity_list"),
    # partner
    path("orientations/recues/", referral_views.inbox, name="inbox"),
    # both sides of a referral
    path("orientations/<uuid:uuid>/", referral_views.referral_detail, name="referral_detail"),
    *(
        path(
            f"orientations/<uuid:uuid>/{slug}/",
            referral_views.referral_transition,
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
    # coordinator
    path("pilotage/", referral_views.dashboard, name="dashboard"),
]

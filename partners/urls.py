"""The partners app's pages and its API (``api_urlpatterns``, under /api/v1/): accounts, an
organisation's members, invitations, services and settings, and the open catalogue."""

from django.contrib.auth import views as auth_views
from django.urls import path

from network import converters  # noqa: F401  registers <id:…>

from . import api, catalogue_api
from .views import accounts, members, organisation_settings, services

api_urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("organisations/", api.OrganisationList.as_view(), name="api-organisations"),
    path("organisations/<id:pk>/", api.OrganisationDetail.as_view(), name="api-organisation"),
    path("organisations/<id:organisation_id>/members/", api.MemberList.as_view(), name="api-members"),
    path("organisations/<id:organisation_id>/members/<id:pk>/", api.MemberDetail.as_view(), name="api-member"),
    path("organisations/<id:organisation_id>/invitations/", api.InvitationList.as_view(), name="api-invitations"),
    path(
        "organisations/<id:organisation_id>/invitations/<id:pk>/",
        api.InvitationDetail.as_view(),
        name="api-invitation",
    ),
    path("services/", api.ServiceList.as_view(), name="api-services"),
    path("services/<id:pk>/", api.ServiceDetail.as_view(), name="api-service"),
    path("neighbourhoods/", api.NeighbourhoodList.as_view(), name="api-neighbourhoods"),
    path("neighbourhoods/<id:pk>/", api.NeighbourhoodDetail.as_view(), name="api-neighbourhood"),
    # The open catalogue (data·inclusion), public and read-only.
    path("catalogue/structures/", catalogue_api.CatalogueStructureList.as_view(), name="api-catalogue-structures"),
    path("catalogue/services/", catalogue_api.CatalogueServiceList.as_view(), name="api-catalogue-services"),
]

urlpatterns = [
    path("", accounts.home, name="home"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("structure/", accounts.organisation_switch, name="organisation_switch"),
    # An organisation's admin manages its members; the invitee's accept page needs no login.
    path("structure/membres/", members.member_list, name="member_list"),
    path("structure/membres/inviter/", members.invitation_create, name="invitation_create"),
    path("structure/membres/invitations/<id:pk>/renvoyer/", members.invitation_resend, name="invitation_resend"),
    path("structure/membres/invitations/<id:pk>/annuler/", members.invitation_cancel, name="invitation_cancel"),
    path("structure/membres/<id:pk>/desactiver/", members.member_deactivate, name="member_deactivate"),
    path("structure/membres/<id:pk>/reactiver/", members.member_reactivate, name="member_reactivate"),
    path("structure/membres/<id:pk>/role/", members.member_role, name="member_role"),
    path("invitation/<uuid:uuid>/<str:token>/", members.invitation_accept, name="invitation_accept"),
    # Password reset for everyone, change when signed in.
    path("mot-de-passe/oublie/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("mot-de-passe/oublie/envoye/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe/reinitialiser/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("mot-de-passe/reinitialise/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("mot-de-passe/changer/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("mot-de-passe/change/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # An organisation admin's services and settings.
    path("structure/services/", services.service_list, name="service_list"),
    path("structure/services/nouveau/", services.service_create, name="service_create"),
    path("structure/services/<id:pk>/", services.service_update, name="service_update"),
    path("structure/services/<id:pk>/suspendre/", services.service_suspend, name="service_suspend"),
    path("structure/services/<id:pk>/reprendre/", services.service_resume, name="service_resume"),
    path("structure/parametres/", organisation_settings.organisation_settings, name="organisation_settings"),
]

"""/api/v1/: each app's api.py owns its paths."""

from django.urls import include, path

urlpatterns = [
    path("", include("partners.api")),
    path("", include("referrals.api")),
    path("", include("messaging.api")),
]

"""/api/v1/: each app's api.py owns its paths."""

from django.urls import include, path

urlpatterns = [
    path("", include("partners.api")),
    path("", include("referrals.api")),
    path("", include("messaging.api")),
    # issue 13 — catalogue: the open catalogue (data·inclusion), public and read-only.
    path("", include("partners.catalogue_api")),
]

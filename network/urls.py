"""The project's URLs: each app routes its own pages (``urlpatterns``) and API
(``api_urlpatterns``, under /api/v1/) in its urls.py; here the admin, the language switch, the
API's schema and the API's JSON 404."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from messaging import urls as messaging_urls
from network.api_access import api_not_found
from partners import urls as partners_urls
from referrals import urls as referrals_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(partners_urls.api_urlpatterns)),
    path("api/v1/", include(referrals_urls.api_urlpatterns)),
    path("api/v1/", include(messaging_urls.api_urlpatterns)),
    # OpenAPI schema and its Swagger UI, served by the project itself (drf-spectacular-sidecar, no CDN).
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script (network/security.py).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: an /api/ address that no endpoint matches answers in the API's JSON error shape.
    re_path(r"^api/(?P<unmatched>[\s\S]*)$", api_not_found),
    path("", include(partners_urls)),
    path("", include(referrals_urls)),
    path("", include(messaging_urls)),
]

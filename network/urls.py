from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from network.api_access import api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("network.api_urls")),
    # OpenAPI schema and its Swagger UI, served by the project itself (drf-spectacular-sidecar, no CDN).
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script (network/security.py).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: an /api/ address that no endpoint matches answers in the API's JSON error shape.
    re_path(r"^api/(?P<unmatched>[\s\S]*)$", api_not_found),
    path("", include("network.page_urls")),
]

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("network.api_urls")),
    path("", include("network.page_urls")),
]

# OpenAPI schema and its Swagger UI, served by the project itself (drf-spectacular-sidecar, no CDN).
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView  # noqa: E402

urlpatterns += [
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

# Last: an /api/ address that no endpoint matches answers in the API's JSON error shape.
from django.urls import re_path  # noqa: E402

from network.api_access import api_not_found  # noqa: E402

urlpatterns += [re_path(r"^api/(?P<unmatched>[\s\S]*)$", api_not_found)]

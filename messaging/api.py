"""HTTP API of messaging under /api/v1/ (DRF); network/api_urls.py includes these urlpatterns."""

urlpatterns = []

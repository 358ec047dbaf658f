"""The project's URLs and, under /bench/, the floors each figure is measured against."""

from django.urls import path

from network.urls import urlpatterns as network_urlpatterns

from .floors import BareView, RawPipelineView

urlpatterns = [
    path("bench/bare/", BareView.as_view(), name="bench-bare"),
    path("bench/raw-pipeline/", RawPipelineView.as_view(), name="bench-raw-pipeline"),
    *network_urlpatterns,
]

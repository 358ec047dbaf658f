from django.urls import path, re_path

from . import consumers

websocket_urlpatterns = [
    path("ws/referrals/<uuid:uuid>/", consumers.ReferralConsumer.as_asgi()),
    path("ws/inbox/", consumers.InboxConsumer.as_asgi()),
    path("ws/liens/<uuid:uuid>/<str:token>/", consumers.LinkConsumer.as_asgi()),
    re_path(r"", consumers.NotFoundConsumer.as_asgi()),  # last: any other address closes with 4404
]

from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/referrals/<uuid:uuid>/", consumers.ReferralConsumer.as_asgi()),
    path("ws/inbox/", consumers.InboxConsumer.as_asgi()),
]

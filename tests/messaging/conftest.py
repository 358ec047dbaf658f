"""The messaging tests' cast (a CitésLab and its advisor, a partner with two members, a person the
advisor follows) and the helpers of their WebSocket tests."""

from dataclasses import dataclass

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from messaging.auth import websocket_application
from messaging.routing import websocket_urlpatterns
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

# The WebSocket half of network/asgi.py, as daphne serves it (origin check, auth, routing).
application = websocket_application(URLRouter(websocket_urlpatterns))


@dataclass
class CitesLabAndPartner:
    """A CitésLab with its advisor and the person it follows, and a partner with two members: the
    receiver of the referrals it is sent, and a colleague."""

    citeslab: object
    advisor: object
    partner: object
    receiver: object
    colleague: object
    holder: object

    def send_referral(self, **kwargs):
        return ReferralFactory(holder=self.holder, to_organisation=self.partner, receiver=self.receiver, **kwargs)


@pytest.fixture
def citeslab_and_partner(db) -> CitesLabAndPartner:
    citeslab = OrganisationFactory(citeslab=True, name="CitésLab Grand Troyes")
    advisor = member_of(citeslab, first_name="Inès", last_name="Conseil")
    partner = OrganisationFactory(name="BGE Champagne")
    receiver = member_of(partner, first_name="Paul", last_name="Partenaire")
    colleague = member_of(partner, first_name="Léa", last_name="Collègue")
    holder = ProjectHolderFactory(
        organisation=citeslab,
        actor=advisor,
        first_name="Samia",
        last_name="Benali",
        neighbourhood=NeighbourhoodFactory(name="Chantereigne"),
    )
    return CitesLabAndPartner(citeslab, advisor, partner, receiver, colleague, holder)


def token_of(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


async def open_socket(path: str, user=None, *, origin: bytes | None = b"http://127.0.0.1", headers=()):
    """A connected communicator on the real ASGI application (origin check, auth, routing)."""
    all_headers = list(headers)
    if origin is not None:
        all_headers.append((b"origin", origin))
        if not any(name == b"host" for name, _value in all_headers):
            all_headers.append((b"host", b"127.0.0.1"))  # a browser's socket, opened on its page's origin
    if user is not None:
        key = await database_sync_to_async(token_of)(user)
        all_headers.append((b"authorization", f"Token {key}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=all_headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive_events(communicator, count: int, timeout: float = 3) -> list[dict]:
    return [await communicator.receive_json_from(timeout=timeout) for _ in range(count)]


async def closed_with(communicator, timeout: float = 3) -> int:
    message = await communicator.receive_output(timeout=timeout)
    assert message["type"] == "websocket.close", message
    return message["code"]

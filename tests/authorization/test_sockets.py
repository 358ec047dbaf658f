"""The WebSockets × every role of the authorization matrix, one test per cell.

A cell connects to the real ASGI stack (origin check, token auth, routing) and answers ``OPEN``
(accepted and still open) or the code the socket was closed with: 4401 without a user, 4403 for a
user who may not follow that stream, 4404 for an address that is no stream. The referral's stream carries its notes, so only its two sides
open it: a coordinator, or a partner whose grant went with a consent withdrawal, is refused.

The consumers read the database from their own threads: each cell is a transactional test with its
own committed ``live_matrix_world`` (tests/worlds.py), so keep this table small.
"""

import re

import pytest
from channels.db import database_sync_to_async

from messaging.routing import websocket_urlpatterns
from tests.messaging.conftest import closed_with, open_socket
from tests.worlds import ROLES

OPEN = "open"

# fmt: off
#   anonymous, advisor, receiver_staff, unrelated_staff, receiver_admin, coordinator, coordinator_partner, withdrawn_receiver, other_admin
SOCKETS = [
    ("/ws/referrals/{referral}/", (4401, OPEN, OPEN, 4403, OPEN, 4403, OPEN, 4403, 4403)),
    ("/ws/referrals/{withdrawn}/", (4401, OPEN, 4403, 4403, 4403, 4403, 4403, 4403, 4403)),
    ("/ws/inbox/", (4401, OPEN, OPEN, OPEN, OPEN, OPEN, OPEN, OPEN, OPEN)),
    # A signed link is its own credential: open for whoever holds it, until its receiver's grant goes.
    ("/ws/liens/{referral}/{referral_link}/", (OPEN, OPEN, OPEN, OPEN, OPEN, OPEN, OPEN, OPEN, OPEN)),
    ("/ws/liens/{withdrawn}/{withdrawn_link}/", (4403, 4403, 4403, 4403, 4403, 4403, 4403, 4403, 4403)),
    ("/ws/nope/", (4404, 4404, 4404, 4404, 4404, 4404, 4404, 4404, 4404)),  # any other address
]
# fmt: on


def cells():
    return [
        pytest.param(template, role, expected, id=f"WS {template} as {role}")
        for template, answers in SOCKETS
        for role, expected in zip(ROLES, answers, strict=True)
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_memory_layer")
@pytest.mark.parametrize(("template", "role", "expected"), cells())
async def test_socket(live_matrix_world, template, role, expected):
    user = None if role == "anonymous" else live_matrix_world.users[role]
    path = await database_sync_to_async(live_matrix_world.path)(template)  # a signed link reads its referral
    communicator = await open_socket(path, user)

    if await communicator.receive_nothing(timeout=0.1):
        answer = OPEN
        await communicator.disconnect()
    else:
        answer = await closed_with(communicator)

    assert answer == expected


def test_the_matrix_names_every_socket():
    """Every stream, and the catch-all route (an empty pattern) as one unknown address."""
    routes = {re.sub(r"<[^>]+>", "{}", "/" + str(route.pattern)) for route in websocket_urlpatterns}
    assert routes == {re.sub(r"\{[^}]+\}", "{}", template) for template, _ in SOCKETS} - {"/ws/nope/"} | {"/"}

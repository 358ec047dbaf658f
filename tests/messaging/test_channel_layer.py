"""The configured channel layer keeps delivering to a channel that stays idle (Redis in CI's second pass)."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL, reason="the in-memory layer has no socket to time out: runs in .ci/run's Redis pass"
)


async def test_a_channel_idle_past_the_blocking_read_still_receives():
    layer = get_channel_layer()
    channel = await layer.new_channel()

    # channels_redis blocks 5 s per read; redis-py 8's default socket timeout was 5 s too.
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 7)
    await layer.send(channel, {"type": "relais.hello"})

    assert await asyncio.wait_for(layer.receive(channel), 3) == {"type": "relais.hello"}
    await layer.flush()

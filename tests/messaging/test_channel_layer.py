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


async def test_hundreds_of_sockets_joining_and_leaving_at_once_all_get_a_connection():
    """redis-py 8 caps a pool at 100 connections and refuses the 101st: 200 sockets closing
    together (their group_discard) failed with "Too many connections" and the next socket got a 500."""
    layer = get_channel_layer()
    channels = [await layer.new_channel() for _ in range(300)]

    await asyncio.gather(*(layer.group_add("relais.burst", channel) for channel in channels))
    await layer.group_send("relais.burst", {"type": "relais.hello"})
    received = await asyncio.gather(*(asyncio.wait_for(layer.receive(c), 10) for c in channels))
    await asyncio.gather(*(layer.group_discard("relais.burst", channel) for channel in channels))

    assert received == [{"type": "relais.hello"}] * 300
    await layer.flush()

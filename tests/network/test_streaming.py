"""network/streaming.py: a streamed response is read one piece at a time by an ASGI server too."""

import warnings

from network.streaming import StreamingResponse


async def test_an_asgi_server_reads_one_piece_at_a_time():
    read = []

    def pieces():
        for number in range(3):
            read.append(number)
            yield f"piece {number}".encode()

    response = StreamingResponse(pieces())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when it reads the whole iterator first
        iterator = response.__aiter__()
        first = await iterator.__anext__()
        assert (first, read) == (b"piece 0", [0])
        rest = [piece async for piece in iterator]

    assert rest == [b"piece 1", b"piece 2"]


def test_a_wsgi_server_reads_it_as_usual():
    response = StreamingResponse(iter([b"a", b"b"]))

    assert b"".join(response) == b"ab"

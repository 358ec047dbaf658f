"""Responses sent piece by piece, whichever server serves them.

Django serves a ``StreamingHttpResponse`` built on a plain iterator to an ASGI server (daphne) by
reading the whole iterator into a list first (with a warning), and one built on an asynchronous
iterator to a WSGI handler (the test client) the same way. ``StreamingResponse`` takes a plain
iterator and gives an ASGI server one piece at a time, each read in the request's own thread
(``sync_to_async(thread_sensitive=True)``, where the view ran and its database connection lives):
memory holds one piece, however long the response. ``file_response`` sends a (temporary) file
that way and closes it once read, or when the server closes the response.
"""

import os
from typing import IO

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

BLOCK_SIZE = 64 * 1024

_END = object()


class _PieceByPiece:
    async def __aiter__(self):
        if self.is_async:
            async for piece in super().__aiter__():
                yield piece
            return
        pieces = iter(self.streaming_content)
        read = sync_to_async(next, thread_sensitive=True)
        while (piece := await read(pieces, _END)) is not _END:
            yield piece


class StreamingResponse(_PieceByPiece, StreamingHttpResponse):
    """A streamed response of a plain iterator of bytes, one piece at a time on WSGI and ASGI."""


class _Blocks:
    """A file's blocks, the file closed after the last one, or when the response is closed
    (Django calls ``close`` of its content): a temporary file is then removed."""

    def __init__(self, file: IO[bytes]):
        self.file = file

    def __iter__(self):
        while block := self.file.read(BLOCK_SIZE):
            yield block
        self.file.close()

    def close(self):
        self.file.close()


def file_response(file: IO[bytes], *, filename: str, content_type: str) -> StreamingResponse:
    """``file`` (read from its start) as a download named ``filename``."""
    size = os.fstat(file.fileno()).st_size
    file.seek(0)
    response = StreamingResponse(_Blocks(file), content_type=content_type)
    response["Content-Length"] = str(size)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response

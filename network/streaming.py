"""Responses sent piece by piece, whichever server serves them.

Django serves a ``StreamingHttpResponse`` built on a plain iterator to an ASGI server (daphne) by
reading the whole iterator into a list first (with a warning), and one built on an asynchronous
iterator to a WSGI handler (the test client) the same way. ``StreamingResponse`` and
``StreamedFileResponse`` take a plain iterator and give an ASGI server one piece at a time, each
read in the request's own thread (``sync_to_async(thread_sensitive=True)``, where the view ran
and its database connection lives): memory holds one piece, however long the response.
"""

from asgiref.sync import sync_to_async
from django.http import FileResponse, StreamingHttpResponse

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


class StreamedFileResponse(_PieceByPiece, FileResponse):
    """A file sent in blocks of 64 KiB, one at a time on WSGI and ASGI; the file is closed (and a
    temporary file removed) when the response is."""

    block_size = 64 * 1024

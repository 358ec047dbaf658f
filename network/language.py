"""French first: pages are in French unless the user chose another language with the switch."""


class FrenchFirstMiddleware:
    """Ignore the browser's Accept-Language on pages, so the language cookie alone decides.

    Staff share computers and browsers set to English; the interface stays French until the
    language switch (Django's ``set_language`` cookie) says otherwise. The API keeps honouring
    Accept-Language for its clients.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)

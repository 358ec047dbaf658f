"""The Content-Security-Policy of every response: scripts, styles, images and connections from
Relais itself only, no inline script, no plugin, no framing.

Relais's pages load their scripts and stylesheet from /static/ and write no inline script or
style; the live script's socket is same-origin (``connect-src 'self'`` covers ws: and wss: of the
page's own host). The Django admin and the Swagger UI (/api/docs/, served without inline script by
``SpectacularSwaggerSplitView``) set some styles inline: on those paths only, inline styles are
allowed. The browser tests fail on any violation reported in the console.
"""

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
THIRD_PARTY_PAGES_POLICY = POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
THIRD_PARTY_PREFIXES = ("/admin/", "/api/docs/")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            third_party = request.path.startswith(THIRD_PARTY_PREFIXES)
            response["Content-Security-Policy"] = THIRD_PARTY_PAGES_POLICY if third_party else POLICY
        return response

"""HTTP API of the referrals app under /api/v1/, one module per subject.

Views are thin: they find the object through the scoping selectors (an object the caller may not
see answers 404), ask referrals.lifecycle whether the caller's side may act (403, before the body
is read), validate the body, and call referrals.services, whose refusals network/errors.py turns
into 400/403/409 with a ``code``. Shared conventions are in network/api_access.py.
"""

"""Pages of the referrals app, one module per subject and role: the advisor's holders (the people
its CitésLab follows), consents, sending (the referral form and the referrals sent) and activities
(intake activities); partner (inbox), referral (the page both sides share, coordinators read-only)
coordinator (pipeline dashboard) and links (a referral answered through a signed link, without an
account; the sender's buttons for its links). Reads go through ``referrals.selectors``, writes through
``referrals.services``; what a viewer may do and see on a referral comes from
``referrals.lifecycle``. A service's refusal is shown on the form it came from, with the HTTP
status of the refusal (400, 403 or 409). List pages run a fixed number of queries.
"""

"""Every write of the partner network, one module per subject: organisations (and their Group),
memberships (each change recorded in ``MembershipChange``), invitations, services; formats.py
holds the checks of the catalogue's formats (e-mail, web address, postal code) they share with
the catalogue import.

Membership and Group stay in sync here: a user is in an organisation's Group exactly while the
membership is active and the organisation is active. Object permissions are granted to Groups,
so this sync is what gives and removes access. Callers import the module of the subject:
``from partners.services import memberships``; ``memberships.membership_add(...)``.
"""

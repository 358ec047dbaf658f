"""Pages of the partners app, one module per subject: accounts (sign-in, password reset and
change, the home of each kind of organisation, the organisation switcher), and an organisation
admin's pages: members (with the invitee's accept page), services, organisation_settings. Their
forms are in ``partners.forms``; every write goes through ``partners.services``."""

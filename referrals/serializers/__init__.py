"""Shapes of the referrals app in the HTTP API, one module per subject. Serializers validate input
and shape output; every write goes through referrals.services, and what a viewer may see of a
referral or a person comes from referrals.lifecycle."""

"""Serializer fields shared by the apps' API bodies."""

from rest_framework import serializers

from .api_filters import MAX_ID


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """An object named by its id in a body: a positive 64-bit integer, else a clear 400.

    DRF's own field looks any number up, and SQLite cannot bind one past 64 bits (a 500).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        super().__init__(**kwargs)

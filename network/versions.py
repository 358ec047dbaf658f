"""The version a cached figure is kept under: the newest row of a table that grows with every change."""


def newest_id(model) -> int:
    """The largest primary key of ``model``'s table, 0 when empty: read from the end of the primary
    key's index (the event stream's last id, the activities' last revision)."""
    return model._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0

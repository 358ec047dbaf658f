"""Rules of the code base that no single behaviour shows (STYLE.md, "Speed without leaving Django"):
the apps use Django, DRF and Channels through their documented APIs only, the lifecycle module
decides from values it is given, and functions stay short enough to read."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("network", "partners", "referrals", "messaging")

# ``Model._meta``'s documented API (docs: "Model _meta API" and the Meta options it exposes).
META_DOCUMENTED = {
    "get_field",
    "get_fields",
    "db_table",
    "app_label",
    "model_name",
    "label",
    "label_lower",
    "verbose_name",
    "verbose_name_plural",
    "pk",
}
# Underscored names that Django documents as public API.
DOCUMENTED_UNDERSCORED = {
    "_meta",  # checked below, attribute by attribute
    "_default_manager",  # docs: "Managers", default managers
    "_base_manager",
    "_state",  # docs: "Model instance reference", the _state attribute
    "_get_page",  # docs: "Paginator", "override to use an alternative Page"
}
# Not Django's, DRF's nor Channels': drf-spectacular's AutoSchema hook for the responses it lists.
OTHER_LIBRARIES = {"_get_response_bodies"}
FUNCTION_MAX_LINES = 80


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def private_uses(tree) -> list[tuple[int, str]]:
    """(line, expression) of each underscored attribute read on something other than the code's own
    ``self`` or ``cls``, except those documented as public (and the project's own ``_relais_``
    attributes on a request)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_") or node.attr.startswith("__"):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        if node.attr in DOCUMENTED_UNDERSCORED | OTHER_LIBRARIES or node.attr.startswith("_relais"):
            continue
        found.append((node.lineno, ast.unparse(node)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "_meta":
            if node.attr not in META_DOCUMENTED:
                found.append((node.lineno, ast.unparse(node)))
    return found


def long_functions(tree) -> list[tuple[int, str, int]]:
    return [
        (node.lineno, node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > FUNCTION_MAX_LINES
    ]


def test_the_rule_finds_a_private_api_and_a_long_function():
    tree = ast.parse(
        "def f(connection, qs, Model):\n"
        "    connection._prepare_cursor(None)\n"
        "    qs._clone()\n"
        "    Model._meta.concrete_fields\n"
        "    Model._meta.get_field('x')\n" + "    pass\n" * FUNCTION_MAX_LINES
    )
    assert [expression for _, expression in private_uses(tree)] == [
        "connection._prepare_cursor",
        "qs._clone",
        "Model._meta.concrete_fields",
    ]
    assert long_functions(tree) == [(1, "f", FUNCTION_MAX_LINES + 5)]


@pytest.mark.parametrize("path,tree", list(_sources()), ids=lambda value: getattr(value, "name", ""))
def test_the_apps_use_no_private_api_of_django_drf_or_channels(path, tree):
    assert private_uses(tree) == [], path.relative_to(ROOT)


def test_no_function_in_the_apps_is_longer_than_80_lines():
    found = {
        f"{path.relative_to(ROOT)}:{line} {name}": length
        for path, tree in _sources()
        for line, name, length in long_functions(tree)
    }
    assert found == {}


def test_the_lifecycle_module_decides_from_values_and_reads_nothing():
    path = ROOT / "referrals" / "lifecycle.py"
    tree = ast.parse(path.read_text())
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name and name.startswith("django.db")]
    reads = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("objects", "cursor", "raw", "filter", "execute")
    ]
    assert reads == []
    assert len(path.read_text().splitlines()) < 450

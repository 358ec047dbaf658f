"""``<id:…>`` in a path: an object id, a positive 64-bit integer.

Django's ``<int:…>`` takes any run of digits, and a number past the database's integers
(``/api/v1/organisations/39064098834401624064/``) overflowed in the query: a 500. An id out of
range matches no path, so the address answers 404 like any unknown one. A URL module that uses
``<id:…>`` imports this module, which registers the converter.
"""

from django.urls import register_converter

from .api_filters import MAX_ID


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(f"{value} is not an id")  # Django then tries the next path
        return number

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")

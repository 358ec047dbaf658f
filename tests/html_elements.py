"""A page's elements, read with the standard library's ``html.parser``, for the asserts of the page
tests that name the element they expect (a table row, a select's options) rather than slicing the
page's text. Where an assert is about a whole element, ``assertContains(response, ..., html=True)``
or ``assertInHTML`` says it more simply.

``parse(content).find("tr", data_referral=uuid).text``: a keyword names an attribute (``_`` for
``-``, ``class_`` for ``class``) and matches its value, or one of its classes for ``class_``;
``True`` matches any value, the attribute only present.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements without an end tag (HTML's void elements).
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    children: list["Element | str"] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The text inside the element, its whitespace collapsed as a browser shows it."""
        parts = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else f" {child.text} ")
        return " ".join("".join(parts).split())

    def iter(self):
        """The elements inside this one, in document order."""
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list["Element"]:
        return [element for element in self.iter() if element.matches(tag, attrs)]

    def find(self, tag: str | None = None, **attrs) -> "Element":
        """The only element that matches: fails when there is none or more than one."""
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} elements <{tag or '*'} {attrs}>, not one"
        return found[0]

    def definitions(self) -> dict[str, str]:
        """The text of each ``<dt>`` inside this element and of the ``<dd>`` that follows it."""
        pairs = {}
        for definition_list in self.find_all("dl"):
            term = None
            for child in definition_list.children:
                if isinstance(child, Element) and child.tag == "dt":
                    term = child.text
                elif isinstance(child, Element) and child.tag == "dd" and term is not None:
                    pairs[term] = child.text
        return pairs

    def matches(self, tag: str | None, attrs: dict) -> bool:
        if tag is not None and self.tag != tag:
            return False
        for key, expected in attrs.items():
            name = "class" if key == "class_" else key.replace("_", "-")
            if name not in self.attrs:
                return False
            value = self.attrs[name]
            if expected is True:
                continue
            if name == "class" and expected not in (value or "").split():
                return False
            if name != "class" and value != str(expected):
                return False
        return True


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs))
        self.open[-1].children.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.open[-1].children.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag):
        # An end tag closes the innermost open element of its name and whatever is left open inside it.
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data):
        self.open[-1].children.append(data)


def parse(content: bytes | str) -> Element:
    """The document of a response's content (or of an HTML string), its entities read."""
    builder = _TreeBuilder()
    builder.feed(content.decode() if isinstance(content, bytes) else content)
    builder.close()
    return builder.root

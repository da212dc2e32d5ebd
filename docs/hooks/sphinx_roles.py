"""Griffe extension of the docs site (mkdocs.yml): Sphinx cross-reference roles in docstrings become links.

Peephole's docstrings name other objects with Sphinx roles (``:class:`~peephole.result.Explanation```,
``:meth:`map_for```). Markdown renders them as literal text, so each role becomes an optional autorefs reference:
a link where the site documents the object, plain code where it does not (no warning either way). A leading
``~`` shows the last name only, as in Sphinx; a name without a dot is looked up from the object's own scope.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`(~?)([\w.]+)(?:\(\))?`")


def target(obj: griffe.Object, name: str) -> str:
    """The full path of ``name`` as written in ``obj``'s docstring."""
    if name.startswith(("peephole.", "peephole_lab.")):
        return name
    scope = obj if obj.is_class or obj.is_module else obj.parent
    while scope is not None:
        try:
            return scope.resolve(name)
        except (griffe.NameResolutionError, AttributeError, KeyError):
            scope = scope.parent
    return name


class SphinxRoles(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is None:
            return

        def link(m: re.Match) -> str:
            tilde, name = m.groups()
            full = target(obj, name)
            title = name.rsplit(".", 1)[-1] if tilde else name
            return f'<autoref identifier="{full}" optional><code>{title}</code></autoref>'

        obj.docstring.value = ROLE.sub(link, obj.docstring.value)

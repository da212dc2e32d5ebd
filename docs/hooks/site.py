"""MkDocs hooks of the docs site (mkdocs.yml): pages made from the code and the README, so they cannot drift.

* The getting-started page is README.md itself, its ``docs/`` links made relative to the site's pages.
* A line ``<!-- options: NAME -->`` in a page becomes the table of method NAME's options (from its typed
  ``Options`` dataclass, or its function's keyword arguments) and of the partition and masker it uses on each
  input kind; ``<!-- methods -->`` the registry's table of methods; ``<!-- partitions -->`` every input kind's
  partitions and maskers with their options. The descriptions are the fields' ``#:`` comments, read with griffe.
* A notebook's links to other pages (``../results.md#...``, which work in Jupyter) become the pages' site addresses:
  mkdocs rewrites the links of Markdown pages only.
"""

from __future__ import annotations

import inspect
import posixpath
import re
from dataclasses import MISSING, fields, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any, get_type_hints

import griffe
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_LINK = re.compile(r'href="([^":#]+\.md)(#[^"]*)?"')
DIRECTIVE = re.compile(r"^<!-- (options|methods|partitions)(?::\s*([\w-]+))? -->$", re.M)


def readme_page() -> str:
    """README.md with its ``docs/`` links made relative to the site's pages."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.sub(r"\]\(docs/", "](", text)


@cache
def griffe_module(path: str) -> griffe.Module:
    return griffe.load(path, search_paths=[str(ROOT / "src")], extensions=griffe.load_extensions("griffe_sphinx"))


def field_doc(cls: type, name: str) -> str:
    """The ``#:`` comment of field ``name``, from the class of ``cls``'s MRO that declares it."""
    for owner in cls.__mro__:
        if name in owner.__dict__.get("__annotations__", {}):
            member = griffe_module(owner.__module__)[owner.__qualname__].members.get(name)
            return member.docstring.value if member is not None and member.docstring else ""
    return ""


def shown(value: Any) -> str:
    """A default as the table shows it: its repr, or a count for a long list of objects."""
    if isinstance(value, (list, tuple)) and value and not isinstance(value[0], (int, float, str)):
        return f"{len(value)} × {type(value[0]).__name__}"
    return f"`{value!r}`"


def escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def options_rows(cls: type) -> list[str]:
    """Table rows ``| name | type | default | what |`` of an options dataclass."""
    from peephole.core.options import kind

    hints = get_type_hints(cls)
    rows = []
    for f in fields(cls):
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        rows.append(
            f"| `{f.name}` | {escape(kind(hints[f.name]))} | {escape(shown(default))} | {escape(field_doc(cls, f.name))} |"
        )
    return rows


HEAD = ["| option | type | default | what |", "|---|---|---|---|"]


def method_options(name: str) -> str:
    """The options of method ``name``: its own, then the partition and masker it uses per input kind."""
    from peephole.modalities import get_modality
    from peephole.registry import METHODS

    if name not in METHODS:
        raise PluginError(f"<!-- options: {name} -->: no such method; registered: {', '.join(METHODS)}")
    spec = METHODS[name]
    fn = spec.function
    out = [f"**Runs on:** {', '.join(spec.modalities)} inputs · **family:** {spec.family} · `method={name!r}`", ""]
    if is_dataclass(getattr(fn, "Options", None)):
        rows = options_rows(fn.Options)
        source = f"`{fn.Options.__module__}.{fn.Options.__qualname__}`"
    else:
        from peephole.core.options import kind

        hints = get_type_hints(fn)
        params = list(inspect.signature(fn).parameters.values())[1:]  # after the Request
        rows = [
            f"| `{p.name}` | {escape(kind(hints[p.name]))} | {escape(shown(p.default))} | |"
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        summary = (inspect.getdoc(fn) or "").split("\n\n")[0]
        source = f"the keyword arguments of `{fn.__module__}.{fn.__name__}`: {escape(summary)}"
    out += [f"Its own options ({source}):", ""] + (HEAD + rows if rows else ["None."])
    if hasattr(fn, "option_defaults"):
        out += ["", "What it masks and with what, unless `partition=` / `masker=` say otherwise:", ""]
        out += ["| input kind | partition | masker |", "|---|---|---|"]
        for m in spec.modalities:
            d = get_modality(m).defaults(name)
            part = f"`{d['partition']!r}`" if fn.takes_partition else "its own"
            out.append(f"| {m} | {part} | `{d['masker']!r}` |")
        for m in spec.modalities:
            rule = get_modality(m).budget_defaults.get(name)
            if rule:
                small = ", ".join(f"{k} `{v!r}`" for k, v in rule.defaults.items())
                out += ["", f"On {m} inputs with `{rule.option}` at most {rule.at_most} (and no partition chosen): {small}."]
        out += [
            "",
            "The chosen partition's and masker's options are valid too: "
            "[partitions and maskers](index.md#partitions-and-maskers).",
        ]
    return "\n".join(out)


def methods_table() -> str:
    from peephole.registry import DEFAULT_METHODS, METHODS

    defaults = {}
    for kind, method in DEFAULT_METHODS.items():
        defaults.setdefault(method, []).append(kind)
    out = ["| method | family | runs on | what | default for |", "|---|---|---|---|---|"]
    for name, s in METHODS.items():
        out.append(
            f"| `{name}` | {s.family} | {', '.join(s.modalities)} | {escape(s.summary)} | {', '.join(defaults.get(name, []))} |"
        )
    return "\n".join(out)


def partitions_tables() -> str:
    from peephole.modalities import MODALITIES, get_modality

    out = []
    for kind in MODALITIES:
        modality = get_modality(kind)
        out += [f"### {kind.capitalize()}", ""]
        out += [f"Default partition `{modality.default_partition!r}`, default masker `{modality.default_masker!r}`.", ""]
        for what, specs in (("partition", modality.partitions), ("masker", modality.maskers)):
            for spec in specs.values():
                out += [f"**{what} `{spec.name!r}`**: {escape(spec.help)}", ""]
                rows = options_rows(spec.Options)
                if rows:
                    out += [*HEAD, *rows, ""]
    return "\n".join(out)


def expand(m: re.Match) -> str:
    kind, name = m.groups()
    if kind == "options":
        return method_options(name)
    return methods_table() if kind == "methods" else partitions_tables()


def on_files(files: Files, config) -> Files:
    files.append(File.generated(config, "index.md", content=readme_page()))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    return DIRECTIVE.sub(expand, markdown)


def site_link(m: re.Match, page, files: Files) -> str:
    """A notebook's link to a Markdown page, as the address of that page relative to the notebook's page."""
    target = files.get_file_from_path(posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), m[1])))
    if target is None:
        raise PluginError(f"{page.file.src_uri}: link {m[1]!r} names no page of the site")
    return f'href="{target.url_relative_to(page.file)}{m[2] or ""}"'


def on_page_content(html: str, page, config, files: Files) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    return NOTEBOOK_LINK.sub(lambda m: site_link(m, page, files), html)

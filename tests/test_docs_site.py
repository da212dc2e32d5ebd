"""The docs site (mkdocs.yml) builds with warnings as errors, and its notebooks execute while it builds.

``mkdocs build --strict`` runs in a temporary folder, so mkdocs-jupyter's cache (``.cache/`` under the working
folder) starts empty and every notebook under ``docs/notebooks/`` is executed afresh (``execute: true``,
``allow_errors: false``: a cell that raises fails the build). The checks below read the built pages: each
notebook page holds its outputs, the API reference holds the documented objects, and each method page holds the
table of its typed options generated from the code (``docs/hooks/site.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason="the docs site needs the docs extra: pip install -e '.[docs]'")
pytest.importorskip("mkdocs_jupyter", reason="the docs site needs the docs extra: pip install -e '.[docs]'")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))
METHOD_PAGES = {"pami": "pami", "pami-path": "pami-path", "lime": "lime", "kernel-shap": "kernel-shap", "rise": "rise"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("docs-site")
    out = work / "site"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # the kernels' python
    env.pop("MPLBACKEND", None)  # the notebooks' kernels use the inline backend, as in Jupyter
    env["NO_MKDOCS_2_WARNING"] = "1"
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)]
    proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    assert not re.search(r"^WARNING\b", proc.stderr, re.M), proc.stderr[-3000:]  # --strict fails on them; belt and braces
    return out


def page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def test_every_notebook_is_in_the_nav_and_executed(site: Path) -> None:
    assert len(NOTEBOOKS) >= 5
    for nb in NOTEBOOKS:
        html = page(site, f"notebooks/{nb.stem}")
        assert re.search(r"Out\[\d+\]", html), f"{nb.name}: no executed output on its page"
        assert f"notebooks/{nb.name}" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), f"{nb.name}: not in the nav"


def test_notebooks_with_figures_show_them(site: Path) -> None:
    for name in ("explain_a_photo", "compare_methods", "lab_systems"):
        assert "data:image/png;base64," in page(site, f"notebooks/{name}"), f"{name}: no figure rendered"
    assert 'class="peephole-text"' in page(site, "notebooks/text"), "text: the highlighted words (e.html()) not rendered"


def test_api_reference_documents_the_public_api(site: Path) -> None:
    html = page(site, "api/explain")
    for anchor in ("peephole.explain", "peephole.load", "peephole.Explanation", "peephole.Explanation.map_for"):
        assert f'id="{anchor}"' in html, anchor
    assert ":class:`" not in html and ":meth:`" not in html, "a Sphinx role rendered as text"
    for name, anchor in (("api/methods", "peephole.registry.METHODS"), ("api/batch", "peephole.batch.runner.run")):
        assert f'id="{anchor}"' in page(site, name), anchor


def test_method_pages_list_every_typed_option(site: Path) -> None:
    from peephole.registry import METHODS

    for method, slug in METHOD_PAGES.items():
        html = page(site, f"methods/{slug}")
        options = METHODS[method].function.Options
        for f in fields(options):
            assert f"<code>{f.name}</code>" in html, f"{method}: option {f.name} missing from its page"


def test_getting_started_is_the_readme(site: Path) -> None:
    html = page(site, "")
    assert "Two commands" in html and 'href="runs/"' in html  # README's docs/runs.md link, made relative

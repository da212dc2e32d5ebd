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
METHOD_PAGES = {
    "pami": "pami",
    "pami-path": "pami-path",
    "occlusion": "occlusion",
    "lime": "lime",
    "kernel-shap": "kernel-shap",
    "rise": "rise",
    "hsic": "hsic",
    "sobol": "sobol",
}


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
        assert not re.search(r'href="[^":]+\.md[#"]', html), f"{nb.name}: a link to a .md file, not to its page"
        assert f"notebooks/{nb.name}" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), f"{nb.name}: not in the nav"


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [p.relative_to(ROOT / "docs").as_posix() for d in ("", "methods/", "api/") for p in (ROOT / "docs").glob(f"{d}*.md")]
    assert len(pages) >= 25
    missing = [p for p in pages if not re.search(rf"(: |- ){re.escape(p)}$", nav, re.M)]
    assert not missing, f"pages not in mkdocs.yml's nav: {missing}"


def test_notebooks_with_figures_show_them(site: Path) -> None:
    for name in ("explain_a_photo", "compare_methods", "lab_systems", "detection"):
        assert "data:image/png;base64," in page(site, f"notebooks/{name}"), f"{name}: no figure rendered"
    assert 'href="../../results/#detection-pami-against-d-rise-per-box"' in page(site, "notebooks/detection")
    assert 'class="peephole-text"' in page(site, "notebooks/text"), "text: the highlighted words (e.html()) not rendered"


def test_a_notebook_renders_the_explanation_view(site: Path) -> None:
    """A cell ending in ``e`` shows ``Explanation._repr_html_``: the summary, the targets table, the maps inline."""
    html = page(site, "notebooks/explain_a_photo")
    view = re.search(r'<div class="peephole-explanation">(.*?)</div>', html, re.S)
    assert view, "explain_a_photo: no cell output holds the Explanation's notebook view (_repr_html_)"
    body = view.group(1)
    assert "<b>pami-path</b> explanation" in body and "model queries" in body
    table = re.search(r'<table class="peephole-targets">.*?<tbody>(.*?)</tbody></table>', body, re.S)
    assert table and table.group(1).count("<tr>") == 3 and "predicted" in table.group(1), "the targets table (top_k=3)"
    assert re.search(r'<img alt="importance maps" src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"\s*/?>', body), "maps inline"


def test_api_reference_documents_the_public_api(site: Path) -> None:
    html = page(site, "api/explain")
    for anchor in ("peephole.explain", "peephole.load", "peephole.Explanation", "peephole.Explanation.map_for"):
        assert f'id="{anchor}"' in html, anchor
    assert ":class:`" not in html and ":meth:`" not in html, "a Sphinx role rendered as text"
    assert 'id="peephole.core.pack.Packer"' in html and '<span title="peephole.core.pack.Packer">' not in html
    for name, anchor in (
        ("api/methods", "peephole.registry.METHODS"),
        ("api/batch", "peephole.batch.runner.run"),
        ("api/tasks", "peephole.tasks.detection.Detection"),
        ("api/models", "peephole.models.detection.as_detector"),
        ("api/models", "peephole.models.haar.haar_detector"),
        ("api/models", "peephole.models.dbnet.dbnet_detector"),
        ("api/metrics", "peephole.metrics.fidelity.mu_fidelity"),
        ("api/metrics", "peephole.metrics.road.NoisyLinearMasker"),
        ("api/metrics", "peephole.metrics.randomisation.mprt"),
        ("api/metrics", "peephole.metrics.stability.seed_stability"),
        ("api/metrics", "peephole.metrics.grading.self_graded"),
    ):
        assert f'id="{anchor}"' in page(site, name), anchor


def test_method_pages_list_every_typed_option(site: Path) -> None:
    from peephole.registry import METHODS

    assert set(METHOD_PAGES) == {name for name, spec in METHODS.items() if spec.family == "perturbation"}
    for method, slug in METHOD_PAGES.items():
        html = page(site, f"methods/{slug}")
        assert "<strong>Runs on:</strong>" in html and "<!-- options:" not in html, f"{method}: no options table"
        options = METHODS[method].function.Options
        for f in fields(options):
            assert f"<code>{f.name}</code>" in html, f"{method}: option {f.name} missing from its page"


def test_getting_started_is_the_readme(site: Path) -> None:
    html = page(site, "")
    assert "Two commands" in html and 'href="runs/"' in html  # README's docs/runs.md link, made relative

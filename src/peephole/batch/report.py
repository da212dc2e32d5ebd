"""``peephole report RUN``: a self-contained HTML report of a run, opened from the file system (no server).

The report folder holds ``index.html`` (styles, script and data inline) and ``img/`` (one PNG per item and
class, linked by relative paths). A grid shows each item with the overlay of the explained class, its top
classes with probabilities, the true label when known and its insertion / deletion scores when computed;
it sorts (misclassified first, lowest confidence, ...) and filters, and for methods that keep per-query
outputs a class switcher shows the maps of the top classes — all aggregated from the same queries
(:meth:`~peephole.Explanation.map_for`), none made by another query. A detection's card draws every reference box
(its class and score) over the input and the shown box over its map; its switcher offers one map per box. An
item's maps share one colour scale (as :meth:`~peephole.Explanation.figure`), shown by a colour bar under its card;
a click enlarges a picture;
a legend says how to read a card, and a note says when the dataset has no labels to mark errors with.
What a card shows comes from the result's modality (:meth:`~peephole.modalities.Modality.report_view`,
``report_input``): a picture (an image overlay, a sequence plot) written to ``img/``, or an HTML fragment
(highlighted words) that the modality built with every user-supplied word escaped. The page is
``templates/report.html`` (with ``report.css`` and ``report.js``) filled in by :class:`string.Template`.

Everything that comes from the user (file names, sentences, class names, error messages) reaches the page
either escaped by :func:`html.escape` or as JSON data (``<`` escaped) that the script writes with
``textContent``; the only HTML the script inserts is a modality's fragment, in which the modality escaped
every user-supplied word, so a sentence containing ``<script>`` shows as text.
"""

from __future__ import annotations

import hashlib
import html
import json
import time
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from peephole.core.options import require_count
from peephole.errors import InputError
from peephole.modalities import get_modality
from peephole.store.runs import Store

#: Classes offered per item by the class switcher: the explained targets, then the top predicted ones.
DEFAULT_CLASSES = 3


def write_report(run: str | Path | Store, out: str | Path | None = None, classes: int = DEFAULT_CLASSES) -> Path:
    """Write the report of the run folder ``run`` to ``out`` (default ``RUN/report``); returns ``index.html``.
    ``classes``: the top classes each item's class switcher offers besides its targets (0: the targets only)."""
    require_count("classes", classes, 0)  # a negative count would slice from the end: every class but the last
    store = run if isinstance(run, Store) else Store(run)
    folder = Path(out) if out is not None else store.path / "report"
    (folder / "img").mkdir(parents=True, exist_ok=True)
    rows = store.rows()
    items = [_item(store, folder, r, classes) for r in rows]
    rows = [{**r, "status": d["status"], "error": d["error"]} for r, d in zip(rows, items)]  # damaged files: failed
    done = [i for i in items if i["status"] == "done"]
    ramp = get_modality(done[0]["modality"]).report_ramp() if done else None
    data = {"items": items, "summary": summary(store, rows), "ramp": ramp}
    page = _page(data, store)
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def open_in_browser(index: Path) -> bool:
    """Open the report ``index`` in a graphical browser when there is one; never fails. False where none can
    be opened (a headless machine: no display; no browser registered): the caller prints the path instead."""
    import os
    import sys
    import webbrowser

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False  # headless: only console browsers could start, and they would take over the terminal
    try:
        return bool(webbrowser.open(Path(index).resolve().as_uri()))
    except Exception:  # noqa: BLE001 - any failure to start a browser leaves the printed path
        return False


def summary(store: Store, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Counts, accuracy (when labels are known), timings and metric means of a run."""
    rows = store.rows() if rows is None else rows
    done = [r for r in rows if r["status"] == "done"]
    labelled = [r for r in done if r["correct"] is not None]
    sessions = store.sessions()
    out: dict[str, Any] = {
        "items in dataset": store.total,
        "explained": len(done),
        "failed": sum(r["status"] == "failed" for r in rows),
        "skipped (no boxes found, a benchmark's misclassified photos)": sum(r["status"] == "skipped" for r in rows) or None,
        "not yet run": None if store.total is None else max(0, store.total - len(rows)),
        "accuracy on labelled items": f"{np.mean([r['correct'] for r in labelled]):.3f} ({len(labelled)} items)"
        if labelled
        else None,
        "mean seconds per item": round(float(np.mean([r["seconds"] for r in done])), 3) if done else None,
        "mean model queries per item": round(float(np.mean([r["n_queries"] for r in done])), 1) if done else None,
        "sessions": f"{len(sessions)} ({sum(s['seconds'] or 0 for s in sessions):.1f} s in all)",
    }
    for m in ("insertion", "deletion"):
        vals = [r["metrics"][m] for r in done if r["metrics"] and m in r["metrics"]]
        if vals:
            out[f"mean {m} AUC"] = round(float(np.mean(vals)), 4)
    return {k: v for k, v in out.items() if v is not None}


def _item(store: Store, folder: Path, row: dict[str, Any], n_classes: int) -> dict[str, Any]:
    d: dict[str, Any] = {
        k: row[k] for k in ("id", "seq", "source", "label", "status", "error", "prediction", "prediction_name", "confidence")
    }
    d.update(correct=row["correct"], metrics=row["metrics"] or {}, n_queries=row["n_queries"], seconds=row["seconds"])
    d["top"] = row["top"] or []
    if row["status"] != "done":
        return d
    try:
        return _views(store, folder, row, n_classes, d)
    except InputError as exc:  # the result file is missing or damaged: the item is shown as failed, with why
        return {**d, "status": "failed", "error": f"its result file cannot be read: {exc}"}


def _views(store: Store, folder: Path, row: dict[str, Any], n_classes: int, d: dict[str, Any]) -> dict[str, Any]:
    e = store.load(row["id"])
    d["true_name"] = e.name(row["true_class"]) if row["true_class"] is not None else None
    wanted = list(dict.fromkeys([*e.targets, *[c for c, _, _ in e.top_classes(n_classes)]]))
    maps = {}
    for c in wanted:
        try:
            maps[c] = e.map_of(c)
        except InputError:  # a method that cannot rebuild other classes' maps: only its targets' maps exist
            continue
    mod = get_modality(e.modality)
    scale = (min(float(m.min()) for m in maps.values()), max(float(m.max()) for m in maps.values()))
    # the picture's name carries its scale: a report of other classes (another shared range) never reuses it
    key = f"{Path(row['file']).stem}_{hashlib.sha1(repr(scale).encode()).hexdigest()[:8]}"
    views = []
    for c in maps:
        shown = _shown(folder / "img" / f"{key}_{c}.png", lambda c=c: mod.report_view(e, c, scale))
        views.append({"class": c, "name": e.name(c), "p": float(e.probabilities[c]), "target": c in e.targets, **shown})
    d.update(views=views, scale=list(scale), modality=e.modality, task=e.task)
    d["input"] = _shown(folder / "img" / f"{Path(row['file']).stem}_input.png", lambda: mod.report_input(e))
    if e.task == "detection" and "boxes" in e.extras:
        d.update(boxes=_boxes(e), size=[int(e.input.shape[1]), int(e.input.shape[0])])
    return d


def _boxes(e: Any) -> list[dict[str, Any]]:
    """A detection's reference boxes as the script draws them over the pictures: x0, y0, x1, y1 in the input's
    pixels, the box's name (its class and index) and the detector's score; each view's ``class`` is a box index."""
    scores = e.extras["box_scores"]
    return [{"box": [float(v) for v in b], "name": e.name(i), "score": float(scores[i])} for i, b in enumerate(e.extras["boxes"])]


def _shown(path: Path, make: Any) -> dict[str, str]:
    """What the report shows: ``{'img': relative path}`` of a picture (written once: results of done items never
    change), ``{'html': fragment}``, or ``{}`` when the modality shows nothing there."""
    if path.exists():
        return {"img": f"img/{path.name}"}
    what = make()
    if what is None:
        return {}
    if isinstance(what, str):
        return {"html": what}
    return {"img": _png(path, lambda: what)}


def fragments(e: Any) -> list[str]:
    """Per target of ``e`` an HTML fragment of what a report shows (a picture inline as a PNG data URL), headed
    by the class; for one page of several results (``peephole explain --html``)."""
    import base64
    import io

    from PIL import Image

    mod = get_modality(e.modality)
    out = []
    for t in e.targets:
        what = mod.report_view(e, t)
        if not isinstance(what, str):
            buf = io.BytesIO()
            Image.fromarray(np.asarray(what)).save(buf, format="PNG")
            what = f'<img alt="map" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode("ascii")}">'
        out.append(f"<div><b>{html.escape(e.name(t))} ({e.probabilities[t]:.3f})</b></div>\n{what}")
    return out


def fragment_page(parts: list[str], title: str = "Peephole explanations") -> str:
    """A standalone HTML page holding ``parts`` (from :func:`fragments`)."""
    body = "\n<hr>\n".join(parts)
    head = f'<head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
    return f"<!DOCTYPE html>\n<html>{head}\n<body>\n{body}\n</body></html>\n"


def _png(path: Path, make: Any) -> str:
    """Write the picture ``make()`` once (results of done items never change); its path relative to the report."""
    if not path.exists():
        from PIL import Image

        Image.fromarray(make()).save(path)
    return f"img/{path.name}"


def _json_script(data: Any) -> str:
    """JSON that can sit in a <script type="application/json"> element: no '<', '>' or '&' left raw."""
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _template(name: str) -> str:
    return files("peephole.batch").joinpath("templates", name).read_text(encoding="utf-8")


def labels_note(items: list[dict[str, Any]]) -> str:
    """Why no item is marked misclassified, when the run cannot tell (no labels, or none naming a class); else ''."""
    done = [i for i in items if i["status"] == "done"]
    if not done or any(i["correct"] is not None for i in done):
        return ""
    if all(i["label"] is None for i in done):
        why = (
            "This dataset has no true labels, so no item is marked misclassified. Give them as sub-folders named by "
            "class (DATASET/&lt;class&gt;/image.jpg, as torchvision's ImageFolder) or as a CSV with a label column."
        )
    else:
        why = (
            "The items have labels, but none names one of the model's classes (by its index or its exact name), "
            "so no item is marked misclassified."
        )
    return f'<p class="note" id="labels-note">{why}</p>'


def _page(data: dict[str, Any], store: Store) -> str:
    esc = html.escape
    settings = store.settings
    srows = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(json.dumps(v))}</td></tr>" for k, v in settings.items())
    sums = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in data["summary"].items())
    failed = [i for i in data["items"] if i["status"] == "failed"]
    frows = "".join(f"<tr><td>{esc(i['id'])}</td><td>{esc(str(i['error']))}</td></tr>" for i in failed)
    fails = f"<h2>Failures ({len(failed)})</h2><table id='failures'>{frows}</table>" if failed else ""
    title = f"Peephole run: {settings.get('method')} on {Path(str(settings.get('dataset'))).name}"
    return Template(_template("report.html")).substitute(
        title=esc(title),
        made=esc(time.strftime("%Y-%m-%d %H:%M:%S")),
        source=esc(str(store.path)),
        summary=sums,
        labels_note=labels_note(data["items"]),
        settings=srows,
        failures=fails,
        data=_json_script(data),
        css=_template("report.css"),
        js=_template("report.js"),
    )

"""``peephole report RUN``: a self-contained HTML report of a run, opened from the file system (no server).

The report folder holds ``index.html`` (styles, script and data inline) and ``img/`` (one PNG per item and
class, linked by relative paths). A grid shows each item with the overlay of the explained class, its top
classes with probabilities, the true label when known and its insertion / deletion scores when computed;
it sorts (misclassified first, lowest confidence, ...) and filters, and for methods that keep per-query
outputs a class switcher shows the maps of the top classes — all aggregated from the same queries
(:meth:`~peephole.Explanation.map_for`), none made by another query. What a card shows comes from the
result's modality (:meth:`~peephole.modalities.Modality.report_view`, ``report_input``): a picture (an image
overlay, a sequence plot) written to ``img/``, or an HTML fragment (highlighted words) that the modality built
with every user-supplied word escaped.

Everything that comes from the user (file names, sentences, class names, error messages) reaches the page
either escaped by :func:`html.escape` or as JSON data (``<`` escaped) that the script writes with
``textContent``; the only HTML the script inserts is a modality's fragment, in which the modality escaped
every user-supplied word, so a sentence containing ``<script>`` shows as text.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from peephole.errors import InputError
from peephole.modalities import get_modality
from peephole.store.runs import Store

#: Classes offered per item by the class switcher: the explained targets, then the top predicted ones.
DEFAULT_CLASSES = 3


def write_report(run: str | Path | Store, out: str | Path | None = None, classes: int = DEFAULT_CLASSES) -> Path:
    """Write the report of the run folder ``run`` to ``out`` (default ``RUN/report``); returns ``index.html``."""
    store = run if isinstance(run, Store) else Store(run)
    folder = Path(out) if out is not None else store.path / "report"
    (folder / "img").mkdir(parents=True, exist_ok=True)
    rows = store.rows()
    items = [_item(store, folder, r, classes) for r in rows]
    rows = [{**r, "status": d["status"], "error": d["error"]} for r, d in zip(rows, items)]  # damaged files: failed
    data = {"items": items, "summary": summary(store, rows)}
    page = _page(data, store)
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


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
        "skipped (e.g. a benchmark's misclassified photos)": sum(r["status"] == "skipped" for r in rows) or None,
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
    mod = get_modality(e.modality)
    views = []
    key = Path(row["file"]).stem
    for c in wanted:
        try:
            shown = _shown(folder / "img" / f"{key}_{c}.png", lambda c=c: mod.report_view(e, c))
        except InputError:  # a method that cannot rebuild other classes' maps: only its targets' maps exist
            continue
        views.append({"class": c, "name": e.name(c), "p": float(e.probabilities[c]), "target": c in e.targets, **shown})
    d["views"] = views
    d["input"] = _shown(folder / "img" / f"{key}_input.png", lambda: mod.report_input(e))
    return d


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


def _page(data: dict[str, Any], store: Store) -> str:
    esc = html.escape
    settings = store.settings
    srows = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(json.dumps(v))}</td></tr>" for k, v in settings.items())
    sums = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in data["summary"].items())
    failed = [i for i in data["items"] if i["status"] == "failed"]
    frows = "".join(f"<tr><td>{esc(i['id'])}</td><td>{esc(str(i['error']))}</td></tr>" for i in failed)
    fails = f"<h2>Failures ({len(failed)})</h2><table id='failures'>{frows}</table>" if failed else ""
    title = f"Peephole run: {settings.get('method')} on {Path(str(settings.get('dataset'))).name}"
    made = time.strftime("%Y-%m-%d %H:%M:%S")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{_CSS}</style></head>
<body>
<header><h1>{esc(title)}</h1><p class="made">report written {esc(made)} from {esc(str(store.path))}</p></header>
<section class="top">
<div><h2>Summary</h2><table id="summary">{sums}</table></div>
<div><h2>Settings</h2><table id="settings">{srows}</table></div>
</section>
{fails}
<section id="controls">
<label>Sort <select id="sort">
<option value="misclassified">misclassified first</option>
<option value="confidence-asc">lowest confidence first</option>
<option value="confidence-desc">highest confidence first</option>
<option value="order">dataset order</option>
<option value="insertion-desc">insertion AUC, high to low</option>
<option value="deletion-asc">deletion AUC, low to high</option>
<option value="seconds-desc">slowest first</option>
</select></label>
<label>Filter <input id="filter" type="search" placeholder="name, class, text"></label>
<label><input id="only-wrong" type="checkbox"> misclassified only</label>
<label><input id="only-failed" type="checkbox"> failed only</label>
<span id="count"></span>
</section>
<main id="grid"></main>
<script type="application/json" id="data">{_json_script(data)}</script>
<script>{_JS}</script>
</body></html>
"""


_CSS = """
body{font-family:system-ui,sans-serif;margin:0 1.5em 2em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:.8em 0 .2em}h2{font-size:1.05em;margin:.8em 0 .3em}.made{color:#777;font-size:.8em;margin:0}
section.top{display:flex;gap:2em;flex-wrap:wrap}table{border-collapse:collapse;font-size:.82em}
th,td{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top;max-width:40em;word-break:break-word}
#controls{position:sticky;top:0;background:#fafafa;padding:.6em 0;display:flex;gap:1.2em;flex-wrap:wrap;align-items:center;
border-bottom:1px solid #ccc;z-index:1;font-size:.9em}
#grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:12px;margin-top:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;font-size:.82em}
.card.wrong{border-color:#d33;box-shadow:0 0 0 1px #d33}.card.failed{background:#fff3f3}
.card.skipped{background:#f4f4f4;color:#666}
.card .name{font-weight:600;word-break:break-all;margin-bottom:4px}.pics{display:flex;gap:4px}
.pics img{flex:1;min-width:0;max-width:100%;image-rendering:auto;border-radius:3px}.pics .html{flex:1;margin:4px 0}
.card ol{margin:4px 0;padding-left:1.4em}
.bad{color:#c00}.good{color:#080}.muted{color:#777}.card select{max-width:100%}.err{color:#c00;white-space:pre-wrap}
"""

_JS = r"""
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const grid = document.getElementById("grid");
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function pct(p) { return (100 * p).toFixed(1) + "%"; }
function picture(what, cls) {
  // a picture the report wrote, or an HTML fragment its modality built (every user-supplied word escaped)
  if (what && what.img) {
    const img = el("img", cls); img.src = what.img; img.alt = cls; return img;
  }
  const box = el("div", cls + " html");
  if (what && what.html) box.innerHTML = what.html;
  return box;
}
function card(item) {
  const c = el("div", "card");
  c.dataset.id = item.id;
  c.append(el("div", "name", item.id));
  if (item.status !== "done") {
    c.classList.add(item.status === "skipped" ? "skipped" : "failed");
    c.append(el("div", "err", item.status + ": " + item.error));
    return c;
  }
  if (item.correct === 0) c.classList.add("wrong");
  const views = item.views || [];
  const pics = el("div", "pics");
  if (item.input && (item.input.img || item.input.html)) pics.append(picture(item.input, "input"));
  let show = picture(views[0], "overlay");
  pics.append(show); c.append(pics);
  const setView = (k) => {
    const v = views[k];
    if (!v) return;
    if (v.img && show.tagName === "IMG") { show.src = v.img; show.title = v.name; return; }
    const next = picture(v, "overlay");
    show.replaceWith(next); show = next;
  };
  if (views.length > 1) {
    const sel = el("select", "class-switch");
    views.forEach((v, k) => sel.append(new Option(v.name + " (" + pct(v.p) + ")" + (v.target ? " *" : ""), String(k))));
    sel.addEventListener("change", () => setView(Number(sel.value)));
    c.append(sel);
  } else if (views.length === 1) {
    c.append(el("div", "muted", "map of " + views[0].name));
  }
  setView(0);
  const ol = el("ol");
  item.top.slice(0, 3).forEach(([k, name, p]) => ol.append(el("li", null, name + " " + pct(p))));
  c.append(ol);
  if (item.label !== null && item.label !== undefined) {
    const t = el("div", item.correct === 0 ? "bad" : item.correct === 1 ? "good" : "muted",
      "true: " + (item.true_name || item.label) + (item.correct === 0 ? " (misclassified)" : ""));
    c.append(t);
  }
  const m = Object.entries(item.metrics || {}).map(([k, v]) => k + " " + v.toFixed(3)).join(", ");
  c.append(el("div", "muted", (m ? m + " · " : "") + item.n_queries + " queries · " + item.seconds.toFixed(2) + " s"));
  return c;
}
const cards = DATA.items.map((item) => ({ item, node: card(item) }));
function key(item, what) {
  const done = item.status === "done";
  const conf = done ? item.confidence : -1;
  switch (what) {
    case "misclassified": return [done ? (item.correct === 0 ? 1 : 2) : 0, conf];
    case "confidence-asc": return [done ? 0 : 1, conf];
    case "confidence-desc": return [done ? 0 : 1, -conf];
    case "insertion-desc": return [done ? 0 : 1, -((item.metrics || {}).insertion ?? -1)];
    case "deletion-asc": return [done ? 0 : 1, (item.metrics || {}).deletion ?? 2];
    case "seconds-desc": return [0, -(item.seconds || 0)];
    default: return [0, item.seq];
  }
}
function render() {
  const what = document.getElementById("sort").value;
  const q = document.getElementById("filter").value.trim().toLowerCase();
  const wrong = document.getElementById("only-wrong").checked;
  const failed = document.getElementById("only-failed").checked;
  const shown = cards.filter(({ item }) => {
    if (wrong && item.correct !== 0) return false;
    if (failed && item.status !== "failed") return false;
    if (!q) return true;
    const hay = [item.id, item.source, item.label, item.true_name, item.prediction_name, ...(item.top || []).map((t) => t[1])];
    return hay.some((h) => h !== null && h !== undefined && String(h).toLowerCase().includes(q));
  });
  shown.sort((a, b) => {
    const ka = key(a.item, what), kb = key(b.item, what);
    return ka[0] - kb[0] || ka[1] - kb[1] || a.item.seq - b.item.seq;
  });
  grid.replaceChildren(...shown.map((s) => s.node));
  document.getElementById("count").textContent = shown.length + " of " + cards.length + " items";
}
["sort", "filter", "only-wrong", "only-failed"].forEach((id) => {
  const e = document.getElementById(id);
  e.addEventListener(e.tagName === "SELECT" || e.type === "checkbox" ? "change" : "input", render);
});
render();
"""

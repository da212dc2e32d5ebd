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
const zoom = document.getElementById("zoom");
function fmt(v) { return Math.abs(v) >= 100 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(2) : v.toFixed(3); }
function colourBar(scale) {
  // the item's one colour scale, shared by the maps of all its classes
  const bar = el("div", "colour-bar");
  if (!DATA.ramp || !scale) return bar;
  const ramp = el("div", "ramp");
  ramp.style.background = "linear-gradient(to right, " + DATA.ramp.join(", ") + ")";
  bar.append(el("span", "lo", fmt(scale[0])), ramp, el("span", "hi", fmt(scale[1])));
  bar.title = "importance, one scale for this item's classes";
  return bar;
}
const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, String(v)));
  return e;
}
function boxLayer(item) {
  // a detection's reference boxes over a picture, in the input's pixels: each outlined, with its class and score
  const [w, h] = item.size;
  const layer = svg("svg", { class: "boxes", viewBox: "0 0 " + w + " " + h, preserveAspectRatio: "none" });
  const font = Math.max(w, h) / 16;
  item.boxes.forEach((b, k) => {
    const [x0, y0, x1, y1] = b.box;
    const g = svg("g", { class: "box", "data-box": k });
    g.append(svg("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }));
    const label = svg("text", { x: x0 + 1, y: y0 >= font ? y0 - 2 : y1 + font, "font-size": font });
    label.textContent = b.name + " " + b.score.toFixed(2);
    g.append(label);
    layer.append(g);
  });
  return layer;
}
function framed(pic, item) {
  // a picture with the item's boxes drawn over it (a detection), else the picture itself
  if (!item.boxes || pic.tagName !== "IMG") return pic;
  const f = el("div", "framed");
  f.append(pic, boxLayer(item));
  return f;
}
function enlarge(img, caption, scale) {
  document.getElementById("zoom-img").src = img.src;
  const layer = img.parentElement.querySelector("svg.boxes");
  document.getElementById("zoom-boxes").replaceChildren(...(layer ? [layer.cloneNode(true)] : []));
  document.getElementById("zoom-caption").textContent = caption();
  document.getElementById("zoom-bar").replaceChildren(colourBar(scale));
  zoom.showModal();
}
zoom.addEventListener("click", () => zoom.close());
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
  if (item.input && (item.input.img || item.input.html)) pics.append(framed(picture(item.input, "input"), item));
  let show = picture(views[0], "overlay");
  let current = 0;
  pics.append(framed(show, item)); c.append(pics);
  const value = item.task === "detection" ? (p) => "score " + p.toFixed(2) : pct;  // a box's similarity, not a probability
  pics.addEventListener("click", (ev) => {
    if (ev.target.tagName !== "IMG") return;
    const v = views[current];
    const what = ev.target.classList.contains("overlay") && v ? "map of " + v.name + " (" + value(v.p) + ")" : "input";
    enlarge(ev.target, () => item.id + ": " + what, item.scale);
  });
  const setView = (k) => {
    const v = views[k];
    if (!v) return;
    current = k;
    // over a detection's map only its own box (a view's class is a box index)
    show.parentElement.querySelectorAll("svg.boxes .box").forEach((g) => { g.style.display = Number(g.dataset.box) === v.class ? "" : "none"; });
    if (v.img && show.tagName === "IMG") { show.src = v.img; show.title = v.name; return; }
    const next = picture(v, "overlay");
    show.replaceWith(next); show = next;
  };
  if (views.length > 1) {
    const sel = el("select", "class-switch");
    views.forEach((v, k) => sel.append(new Option(v.name + " (" + value(v.p) + ")" + (v.target ? " *" : ""), String(k))));
    sel.addEventListener("change", () => setView(Number(sel.value)));
    sel.title = "* marks a class the run explained; the others' maps come from the same queries";
    c.append(sel);
  } else if (views.length === 1) {
    c.append(el("div", "muted", "map of " + views[0].name));
  }
  setView(0);
  if (views.length) c.append(colourBar(item.scale));
  const ol = el("ol");
  item.top.slice(0, 3).forEach(([k, name, p]) => ol.append(el("li", null, name + " " + value(p))));
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

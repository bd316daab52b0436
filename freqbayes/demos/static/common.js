/* Shared by every freqbayes demo: a seeded random generator, text formatting and a
   small SVG plot (scales, axes, marks). No library, nothing fetched. */
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const PALETTE = ["#1f77b4", "#d95f02", "#2ca02c", "#9467bd", "#e7298a", "#8c564b", "#17becf", "#bcbd22"];

/* mulberry32: a small seeded generator of uniforms on [0, 1). */
function makeRng(seed) {
  let a = (seed >>> 0) || 1;
  const uniform = function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  uniform.normal = function () { /* Box-Muller */
    let u = 0;
    while (u === 0) u = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
  return uniform;
}

/* "{name}" fields of a translated text filled from an object (the same fields in every language). */
function fmt(text, fields) {
  return text.replace(/\{(\w+)\}/g, (m, key) => (key in fields ? String(fields[key]) : m));
}

function num(x, digits) {
  if (!isFinite(x)) return x > 0 ? "∞" : "−∞";
  const s = Number(x).toPrecision(digits || 3);
  return String(Number(s)).replace("-", "−");
}

function superscript(k) {
  const map = { "-": "⁻", "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹" };
  return String(k).split("").map((c) => map[c]).join("");
}

function el(tag, attrs, parent) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function ticks(lo, hi, count) {
  const span = hi - lo;
  const step0 = Math.pow(10, Math.floor(Math.log10(span / count)));
  const err = (span / count) / step0;
  const step = step0 * (err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(Math.abs(v) < 1e-12 ? 0 : v);
  return out;
}

/* A plot in an <svg>: data ranges x = [lo, hi], y = [lo, hi] (ylog: log10 scale). */
class Plot {
  constructor(svg, opts) {
    this.svg = svg;
    this.o = Object.assign({ margin: [20, 20, 48, 58], xlabel: "", ylabel: "", ylog: false }, opts);
    const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
    const [top, right, bottom, left] = this.o.margin;
    this.px = [left, W - right];
    this.py = [H - bottom, top];
    this.setRange(this.o.x, this.o.y);
  }
  setRange(x, y) { this.o.x = x; this.o.y = y; }
  X(v) { const [a, b] = this.o.x; return this.px[0] + (v - a) / (b - a) * (this.px[1] - this.px[0]); }
  Y(v) {
    let [a, b] = this.o.y;
    if (this.o.ylog) { v = Math.log10(v); a = Math.log10(a); b = Math.log10(b); }
    return this.py[0] + (v - a) / (b - a) * (this.py[1] - this.py[0]);
  }
  invert(px, py) {
    const [a, b] = this.o.x, [c, d] = this.o.y;
    return [a + (px - this.px[0]) / (this.px[1] - this.px[0]) * (b - a),
            c + (py - this.py[0]) / (this.py[1] - this.py[0]) * (d - c)];
  }
  clear() { while (this.svg.firstChild) this.svg.removeChild(this.svg.firstChild); return this; }
  /* "url(#…)" of a clip path to the plotting area (for marks that may leave it) */
  clip() {
    const id = "clip-" + this.svg.id;
    if (!this.svg.querySelector("#" + id)) {
      const cp = el("clipPath", { id: id }, el("defs", {}, this.svg));
      el("rect", { x: this.px[0], y: this.py[1], width: this.px[1] - this.px[0], height: this.py[0] - this.py[1] }, cp);
    }
    return `url(#${id})`;
  }
  axes() {
    const g = el("g", { class: "axis" }, this.svg);
    el("rect", { x: this.px[0], y: this.py[1], width: this.px[1] - this.px[0], height: this.py[0] - this.py[1], fill: "none", stroke: "#999" }, g);
    for (const v of ticks(this.o.x[0], this.o.x[1], 6)) {
      el("line", { x1: this.X(v), x2: this.X(v), y1: this.py[0], y2: this.py[0] + 5 }, g);
      el("text", { x: this.X(v), y: this.py[0] + 18, "text-anchor": "middle" }, g).textContent = num(v, 4);
    }
    let yt;
    if (this.o.ylog) {
      yt = [];
      for (let e = Math.ceil(Math.log10(this.o.y[0])); e <= Math.log10(this.o.y[1]); e++) yt.push(Math.pow(10, e));
    } else yt = ticks(this.o.y[0], this.o.y[1], 6);
    for (const v of yt) {
      el("line", { x1: this.px[0] - 5, x2: this.px[0], y1: this.Y(v), y2: this.Y(v) }, g);
      const label = this.o.ylog ? "10" + superscript(Math.round(Math.log10(v))) : num(v, 4);
      el("text", { x: this.px[0] - 8, y: this.Y(v) + 4, "text-anchor": "end" }, g).textContent = label;
    }
    el("text", { x: (this.px[0] + this.px[1]) / 2, y: this.py[0] + 38, "text-anchor": "middle" }, g).textContent = this.o.xlabel;
    const yl = el("text", { x: 0, y: 0, "text-anchor": "middle", transform: `translate(16,${(this.py[0] + this.py[1]) / 2}) rotate(-90)` }, g);
    yl.textContent = this.o.ylabel;
    return g;
  }
  path(xs, ys, attrs, parent) {
    const pts = xs.map((x, i) => `${this.X(x).toFixed(1)},${this.Y(ys[i]).toFixed(1)}`).join(" ");
    return el("polyline", Object.assign({ points: pts, fill: "none", stroke: "#333", "stroke-width": 2 }, attrs), parent || this.svg);
  }
  area(xs, lo, hi, attrs, parent) {
    const up = xs.map((x, i) => `${this.X(x).toFixed(1)},${this.Y(hi[i]).toFixed(1)}`);
    const down = xs.map((x, i) => `${this.X(x).toFixed(1)},${this.Y(lo[i]).toFixed(1)}`).reverse();
    return el("polygon", Object.assign({ points: up.concat(down).join(" "), stroke: "none" }, attrs), parent || this.svg);
  }
  dot(x, y, r, attrs, parent) {
    return el("circle", Object.assign({ cx: this.X(x).toFixed(1), cy: this.Y(y).toFixed(1), r: r }, attrs), parent || this.svg);
  }
  text(x, y, s, attrs, parent) {
    const t = el("text", Object.assign({ x: this.X(x), y: this.Y(y) }, attrs), parent || this.svg);
    t.textContent = s;
    return t;
  }
  /* A legend in the top-right corner: [[label, colour, kind]] with kind "line", "dot" or "box". */
  legend(items, where) {
    const g = el("g", {}, this.svg);
    const x0 = where === "left" ? this.px[0] + 10 : this.px[1] - 10;
    const anchor = where === "left" ? "start" : "end";
    items.forEach(([label, colour, kind], i) => {
      const y = this.py[1] + 16 + 18 * i;
      const mx = anchor === "end" ? x0 - 12 : x0 + 6;
      if (kind === "dot") el("circle", { cx: mx, cy: y - 4, r: 4, fill: colour }, g);
      else if (kind === "box") el("rect", { x: mx - 8, y: y - 10, width: 16, height: 10, fill: colour, opacity: 0.35 }, g);
      else el("line", { x1: mx - 9, x2: mx + 9, y1: y - 4, y2: y - 4, stroke: colour, "stroke-width": 2.5 }, g);
      el("text", { x: anchor === "end" ? x0 - 26 : x0 + 20, y: y, "text-anchor": anchor }, g).textContent = label;
    });
    const box = g.getBBox(); /* a white card behind the legend, so that it hides no data unread */
    const card = el("rect", { x: box.x - 4, y: box.y - 3, width: box.width + 8, height: box.height + 6, fill: "#fff", "fill-opacity": 0.85, rx: 3 });
    g.insertBefore(card, g.firstChild);
    return g;
  }
}

function $(id) { return document.getElementById(id); }

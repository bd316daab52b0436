/* Nearest and farthest neighbour distances as d grows (§5.11): precomputed histograms. */
"use strict";
(function () {
  const T = DEMO.t, D = DEMO.data;
  const plot = new Plot($("plot"), { x: [0, 1], y: [0, 1], xlabel: T.distance, ylabel: T.count });
  const S = window.demoState = { d: null, nearest: null, farthest: null };
  $("dimension").max = String(D.dims.length - 1);
  function bars(edges, counts, colour, cls) {
    counts.forEach((c, i) => {
      if (!c) return;
      el("rect", { x: plot.X(edges[i]).toFixed(1), y: plot.Y(c).toFixed(1), width: Math.max(1, plot.X(edges[i + 1]) - plot.X(edges[i]) - 1).toFixed(1), height: (plot.Y(0) - plot.Y(c)).toFixed(1), fill: colour, opacity: 0.6, class: cls }, plot.svg);
    });
  }
  function draw() {
    const d = D.dims[+$("dimension").value], h = D.hist[String(d)];
    Object.assign(S, { d: d, nearest: h.nearest, farthest: h.farthest, ratio: h.median_ratio });
    plot.setRange([0, h.edges[h.edges.length - 1]], [0, Math.max(...h.nearest, ...h.farthest) * 1.15]);
    plot.clear().axes();
    bars(h.edges, h.nearest, PALETTE[0], "bar nearest");
    bars(h.edges, h.farthest, PALETTE[1], "bar farthest");
    plot.legend([[T.nearest, PALETTE[0], "box"], [T.farthest, PALETTE[1], "box"]], "left");
    $("dimension-label").textContent = fmt(T.dimension, { value: d });
    $("status").textContent = fmt(T.readout, { near: num(h.median_nearest, 3), far: num(h.median_farthest, 3), ratio: num(h.median_ratio, 3) });
  }
  $("dimension").addEventListener("input", draw);
  draw();
})();

/* Minibatch SGD over precomputed paths: m′ and ε sliders (§5.9). */
"use strict";
(function () {
  const T = DEMO.t, D = DEMO.data;
  const gw = D.grid_w, gb = D.grid_b;
  const dw = gw[1] - gw[0], db = gb[1] - gb[0];
  const plot = new Plot($("plot"), { x: [gw[0] - dw / 2, gw[gw.length - 1] + dw / 2], y: [gb[0] - db / 2, gb[gb.length - 1] + db / 2], xlabel: "w", ylabel: "b" });
  const allGaps = Object.values(D.paths).flatMap((p) => p.gap);
  const FLOOR = 1e-4;
  const curve = new Plot($("curve"), { x: [0, D.touched], y: [FLOOR, Math.max(...allGaps) * 2], ylog: true, xlabel: T.touched, ylabel: T.gap, margin: [20, 20, 48, 66] });
  const clamp = (v) => v.map((g) => Math.max(g, FLOOR));
  const S = window.demoState = { m: null, eta: null, points: 0, last: null };
  $("batch").max = String(D.batch_sizes.length - 1);
  $("rate").max = String(D.rates.length - 1);
  $("batch").value = "1";
  $("rate").value = String(Math.min(2, D.rates.length - 1));

  function background() {
    /* J on the grid as shaded cells, darker where lower */
    const flat = D.grid_cost.flat(), lo = Math.min(...flat), hi = Math.max(...flat);
    const g = el("g", { class: "contours" }, plot.svg);
    D.grid_cost.forEach((row, i) => row.forEach((c, j) => {
      const t = Math.pow((c - lo) / (hi - lo), 0.35);
      const shade = Math.round(120 + 135 * t);
      el("rect", { x: plot.X(gw[j] - dw / 2).toFixed(1), y: plot.Y(gb[i] + db / 2).toFixed(1), width: (plot.X(dw) - plot.X(0) + 0.6).toFixed(1), height: (plot.Y(0) - plot.Y(db) + 0.6).toFixed(1), fill: `rgb(${shade},${shade},255)` }, g);
    }));
  }
  function draw() {
    const m = D.batch_sizes[+$("batch").value], eta = D.rates[+$("rate").value];
    const p = D.paths[`${m}|${eta}`];
    Object.assign(S, { m: m, eta: eta, points: p.w.length, last: [p.w[p.w.length - 1], p.b[p.b.length - 1]], gap: p.gap[p.gap.length - 1] });
    plot.clear(); background(); plot.axes();
    plot.path(p.w, p.b, { stroke: PALETTE[1], "stroke-width": 1.6, id: "path", "clip-path": plot.clip() });
    plot.dot(p.w[0], p.b[0], 5, { fill: "#222" });
    plot.text(D.mle[0], D.mle[1], "★", { "text-anchor": "middle", dy: 7, "font-size": 22, fill: "#c00" });
    curve.clear().axes();
    D.batch_sizes.forEach((other) => {
      if (other === m) return;
      const q = D.paths[`${other}|${eta}`];
      curve.path(q.touched, clamp(q.gap), { stroke: "#bbb", "stroke-width": 1.2, "clip-path": curve.clip() });
    });
    curve.path(p.touched, clamp(p.gap), { stroke: PALETTE[1], "stroke-width": 2.5, id: "gap-curve", "clip-path": curve.clip() });
    curve.legend([[fmt(T.batch, { value: m }), PALETTE[1], "line"], [T.others, "#bbb", "line"]]);
    const full = m >= D.n ? " " + T.full : "";
    $("batch-label").textContent = fmt(T.batch, { value: m }) + full;
    $("rate-label").textContent = fmt(T.rate, { value: eta });
    $("status").textContent = fmt(T.readout, { steps: (p.touched[p.touched.length - 1] / m).toLocaleString("en"), gap: num(S.gap, 3) });
  }
  $("batch").addEventListener("input", draw);
  $("rate").addEventListener("input", draw);
  draw();
})();

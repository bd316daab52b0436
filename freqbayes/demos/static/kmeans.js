/* k-means and k-means++ step by step (slides 18–19, §5.8.2). State in window.demoState. */
"use strict";
(function () {
  const T = DEMO.t, D = DEMO.data;
  const rng = makeRng(D.seed + 1);
  const plot = new Plot($("plot"), { x: [D.boxes[0][0][0], D.boxes[0][1][0]], y: [D.boxes[0][0][1], D.boxes[0][1][1]], margin: [12, 12, 32, 44] });
  const hist = new Plot($("history"), { x: [0, 1], y: [0, 1], xlabel: T.step, ylabel: T.history, margin: [20, 20, 48, 72] });
  const S = window.demoState = {
    points: [], centres: [], labels: null, probs: null, phase: "empty", inertia: null,
    history: [], converged: false, k: D.k, seeding: "plusplus", dataset: -1,
  };

  function d2(p, c) { const a = p[0] - c[0], b = p[1] - c[1]; return a * a + b * b; }
  function nearest(p) {
    let best = 0, bd = Infinity;
    S.centres.forEach((c, j) => { const v = d2(p, c); if (v < bd) { bd = v; best = j; } });
    return [best, bd];
  }
  /* Σ‖x − c_label(x)‖² with the current labels; before any assignment, to the nearest centroid. */
  function inertia() {
    if (!S.centres.length) return null;
    return S.points.reduce((s, p, i) => s + (S.labels ? d2(p, S.centres[S.labels[i]]) : nearest(p)[1]), 0);
  }
  function record(step) {
    S.inertia = inertia();
    S.history.push({ step: step, inertia: S.inertia });
  }
  function seedingProbs() {
    if (!S.centres.length || S.centres.length >= S.k || S.seeding !== "plusplus") return null;
    const w = S.points.map((p) => nearest(p)[1]);
    const total = w.reduce((a, b) => a + b, 0);
    return total > 0 ? w.map((v) => v / total) : null;
  }
  function phase() {
    if (S.points.length < S.k) return "empty";
    if (S.centres.length < S.k) return "seeding";
    return S.phase === "update" && S.labels ? "update" : "assign";
  }
  function pick(weights) {
    const total = weights.reduce((a, b) => a + b, 0);
    let u = rng() * total;
    for (let i = 0; i < weights.length; i++) { u -= weights[i]; if (u < 0 && weights[i] > 0) return i; }
    return weights.findLastIndex((v) => v > 0);
  }

  function nextCentre() {
    if (phase() !== "seeding") return;
    const chosen = new Set(S.centres.map((c) => S.points.findIndex((p) => p[0] === c[0] && p[1] === c[1])));
    let weights;
    if (!S.centres.length || S.seeding === "random") weights = S.points.map((p, i) => (chosen.has(i) ? 0 : 1));
    else weights = S.points.map((p) => nearest(p)[1]); /* D(x)²: chosen points have 0 */
    const i = pick(weights);
    S.centres.push(S.points[i].slice());
    S.labels = null;
    S.probs = seedingProbs();
    S.phase = S.centres.length === S.k ? "assign" : "seeding";
    record("seed " + S.centres.length);
    draw();
  }
  function assign() {
    if (phase() !== "assign") return;
    const labels = S.points.map((p) => nearest(p)[0]);
    S.converged = S.labels !== null && labels.every((l, i) => l === S.labels[i]);
    S.labels = labels;
    S.phase = "update";
    record("assign");
    draw();
  }
  function update() {
    if (phase() !== "update") return;
    S.centres = S.centres.map((c, j) => {
      let sx = 0, sy = 0, m = 0;
      S.points.forEach((p, i) => { if (S.labels[i] === j) { sx += p[0]; sy += p[1]; m++; } });
      return m ? [sx / m, sy / m] : c; /* an empty cluster keeps its centroid */
    });
    S.phase = "assign";
    record("update");
    draw();
  }
  function restart() {
    S.centres = []; S.labels = null; S.probs = null; S.history = []; S.inertia = null;
    S.converged = false; S.phase = "seeding";
    draw();
  }
  function setPoints(points) { S.points = points; restart(); }

  function draw() {
    plot.clear().axes();
    const n = S.points.length;
    S.points.forEach((p, i) => {
      let r = 3.5, fill = "#888", op = 0.75;
      if (S.labels) fill = PALETTE[S.labels[i] % PALETTE.length];
      if (S.probs) { r = 1 + 4 * Math.sqrt(S.probs[i] * n); op = Math.min(1, 0.15 + 0.4 * S.probs[i] * n); fill = "#333"; }
      plot.dot(p[0], p[1], Math.min(r, 14).toFixed(2), { fill: fill, "fill-opacity": op.toFixed(3), class: "point" });
    });
    S.centres.forEach((c, j) => {
      const x = plot.X(c[0]), y = plot.Y(c[1]);
      el("path", { d: `M${x - 9},${y - 9}L${x + 9},${y + 9}M${x - 9},${y + 9}L${x + 9},${y - 9}`, stroke: "#fff", "stroke-width": 7, class: "centre-halo" }, plot.svg);
      el("path", { d: `M${x - 9},${y - 9}L${x + 9},${y + 9}M${x - 9},${y + 9}L${x + 9},${y - 9}`, stroke: PALETTE[j % PALETTE.length], "stroke-width": 4, class: "centre" }, plot.svg);
    });
    if (S.probs) plot.legend([[T.probability, "#333", "dot"]], "left");
    plot.text(plot.o.x[1], plot.o.y[0], fmt(T.points, { n: n }), { "text-anchor": "end", dx: -6, dy: -6 });
    drawHistory();
    const ph = phase();
    $("next").disabled = ph !== "seeding";
    $("assign").disabled = ph !== "assign";
    $("update").disabled = ph !== "update";
    let status = ph === "empty" ? T.phase_empty : ph === "seeding" ? fmt(T.phase_seeding, { i: S.centres.length + 1, k: S.k })
      : ph === "assign" ? T.phase_assign : T.phase_update;
    if (S.converged) status = T.converged + " " + status;
    if (S.inertia !== null) status += " " + fmt(T.inertia, { value: num(S.inertia, 5) });
    $("status").textContent = status;
  }
  function drawHistory() {
    hist.clear();
    const v = S.history.map((h) => h.inertia);
    const hi = v.length ? Math.max(...v) * 1.05 : 1;
    hist.setRange([0, Math.max(8, v.length + 1)], [0, hi]);
    hist.axes();
    if (!v.length) return;
    const xs = v.map((_, i) => i + 1);
    hist.path(xs, v, { stroke: "#555", "stroke-width": 1.5 });
    S.history.forEach((h, i) => {
      const colour = h.step === "assign" ? PALETTE[0] : h.step === "update" ? PALETTE[1] : "#888";
      hist.dot(i + 1, h.inertia, 4, { fill: colour });
    });
    hist.legend([[T.assign, PALETTE[0], "dot"], [T.update, PALETTE[1], "dot"], [T.next, "#888", "dot"]]);
  }

  $("plot").addEventListener("click", (ev) => {
    const box = $("plot").getBoundingClientRect();
    const [x, y] = plot.invert(ev.clientX - box.left, ev.clientY - box.top);
    if (x < plot.o.x[0] || x > plot.o.x[1] || y < plot.o.y[0] || y > plot.o.y[1]) return;
    S.points.push([x, y]);
    S.labels = null; S.probs = seedingProbs();
    S.phase = S.centres.length < S.k ? "seeding" : "assign";
    if (S.centres.length) record("add");
    draw();
  });
  $("draw").addEventListener("click", () => {
    S.dataset = (S.dataset + 1) % D.sets.length;
    const [lo, hi] = D.boxes[S.dataset];
    plot.setRange([lo[0], hi[0]], [lo[1], hi[1]]);
    setPoints(D.sets[S.dataset].map((p) => p.slice()));
  });
  $("clear").addEventListener("click", () => setPoints([]));
  $("next").addEventListener("click", nextCentre);
  $("assign").addEventListener("click", assign);
  $("update").addEventListener("click", update);
  $("restart").addEventListener("click", restart);
  $("k").value = String(D.k);
  $("k").addEventListener("change", () => { S.k = +$("k").value; restart(); });
  $("seeding").addEventListener("change", () => { S.seeding = $("seeding").value; restart(); });
  S.dataset = 0;
  setPoints(D.sets[0].map((p) => p.slice()));
})();

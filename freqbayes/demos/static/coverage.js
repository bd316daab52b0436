/* One more data set, two more 95% intervals: the running coverage of each (§5.6). */
"use strict";
(function () {
  const T = DEMO.t, D = DEMO.data;
  const rng = makeRng(20261204);
  const z = 1.959963984540054, se = D.sigma / Math.sqrt(D.n);
  const w = D.s0 * D.s0 / (D.s0 * D.s0 + se * se); /* posterior weight of x̄ */
  const SHOW = 40;
  const plot = new Plot($("plot"), { x: [-6, 6], y: [0, SHOW + 5], xlabel: "θ", ylabel: "", margin: [20, 20, 48, 30] });
  const S = window.demoState = { mode: "fixed", theta: D.theta0, draws: [], hits: { ci: 0, cred: 0 }, total: 0, coverage: { ci: null, cred: null } };
  $("theta").max = String(D.thetas.length - 1);
  $("theta").value = String(D.thetas.indexOf(D.theta0));

  function drawOne() {
    const theta = S.mode === "fixed" ? S.theta : D.m0 + D.s0 * rng.normal();
    const xbar = theta + se * rng.normal();
    const ci = [xbar - z * se, xbar + z * se];
    const centre = w * xbar + (1 - w) * D.m0, half = z * Math.sqrt(w) * se;
    const cred = [centre - half, centre + half];
    const hit = { ci: ci[0] <= theta && theta <= ci[1], cred: cred[0] <= theta && theta <= cred[1] };
    S.draws.push({ theta: theta, ci: ci, cred: cred, hit: hit });
    S.total += 1;
    S.hits.ci += hit.ci ? 1 : 0;
    S.hits.cred += hit.cred ? 1 : 0;
    S.coverage = { ci: S.hits.ci / S.total, cred: S.hits.cred / S.total };
  }
  function reset() {
    S.draws = []; S.total = 0; S.hits = { ci: 0, cred: 0 }; S.coverage = { ci: null, cred: null };
    draw();
  }
  function draw() {
    plot.clear().axes();
    if (S.mode === "fixed") plot.path([S.theta, S.theta], [0, SHOW + 0.6], { stroke: "#222", "stroke-width": 1.5 });
    const recent = S.draws.slice(-SHOW);
    recent.forEach((d, j) => {
      const row = SHOW - j;
      const lines = [["ci", d.ci, row + 0.18, PALETTE[0]], ["cred", d.cred, row - 0.18, PALETTE[1]]];
      for (const [key, iv, y, colour] of lines) {
        plot.path(iv, [y, y], { stroke: d.hit[key] ? colour : "#c00", "stroke-width": d.hit[key] ? 2.5 : 3.5, "stroke-dasharray": d.hit[key] ? "" : "3 2", class: "interval " + key });
      }
      if (S.mode === "drawn") plot.dot(d.theta, row, 3, { fill: "#222" });
    });
    plot.legend([[T.confidence, PALETTE[0], "line"], [T.credible, PALETTE[1], "line"], [T.miss, "#c00", "line"]], "left");
    const rate = (k) => (S.total ? num(S.hits[k] / S.total, 3) : "–");
    $("count-ci").textContent = fmt(T.running, { name: T.confidence, hits: S.hits.ci, total: S.total, rate: rate("ci") });
    $("count-cred").textContent = fmt(T.running, { name: T.credible, hits: S.hits.cred, total: S.total, rate: rate("cred") });
    const i = D.thetas.indexOf(S.theta);
    $("exact").textContent = S.mode === "fixed" ? fmt(T.exact, { ci: num(D.exact_ci[i], 3), cred: num(D.exact_cred[i], 3) })
      : fmt(T.exact, { ci: "0.95", cred: "0.95" });
    $("theta-label").textContent = fmt(T.theta, { value: num(S.theta, 3) });
    $("theta").disabled = S.mode !== "fixed";
  }
  $("one").addEventListener("click", () => { drawOne(); draw(); });
  $("many").addEventListener("click", () => { for (let i = 0; i < 20; i++) drawOne(); draw(); });
  $("reset").addEventListener("click", reset);
  $("mode").addEventListener("change", () => { S.mode = $("mode").value; reset(); });
  $("theta").addEventListener("input", () => { S.theta = D.thetas[+$("theta").value]; reset(); });
  draw();
})();

/* Prior strength for Bayesian linear regression (§5.6.1, eq. 5.79): closed forms in the page. */
"use strict";
(function () {
  const T = DEMO.t, D = DEMO.data;
  const n = D.x.length, sigma = D.sigma;
  const xbar = D.x.reduce((a, b) => a + b, 0) / n, ybar = D.y.reduce((a, b) => a + b, 0) / n;
  const xc = D.x.map((v) => v - xbar);
  const sxx = xc.reduce((s, v) => s + v * v, 0);
  const sxy = xc.reduce((s, v, i) => s + v * (D.y[i] - ybar), 0);
  const mle = sxy / sxx;
  /* slider 0: flat prior; 1..100: log10 τ from 1 down to −2 */
  function tauAt(s) { return s <= 0 ? Infinity : Math.pow(10, 1 - 3 * (s - 1) / 99); }
  /* σ known, b flat, w ~ N(0, τ²): w | data ~ N(Sxy/(Sxx + λ), σ²/(Sxx + λ)), λ = σ²/τ²;
     b | w, data has mean ȳ − w x̄, so the line's mean at x is ȳ + w (x − x̄) with
     variance σ²/n + (x − x̄)² Var(w) (x̄ − centred x is orthogonal to the constant). */
  function posterior(lam) { return { map: sxy / (sxx + lam), sd: sigma / Math.sqrt(sxx + lam) }; }
  const xs = [Math.min(...D.x) - 0.3, Math.max(...D.x) + 0.3];
  const ys = [Math.min(...D.y) - 1, Math.max(...D.y) + 1];
  const plot = new Plot($("plot"), { x: xs, y: ys, xlabel: "x", ylabel: "y" });
  const sdMle = sigma / Math.sqrt(sxx);
  const wRange = [Math.min(-0.5, mle - 4 * sdMle), Math.max(0.5, mle + 4 * sdMle)];
  const dens = new Plot($("density"), { x: wRange, y: [0, 1], xlabel: T.weight, ylabel: "" });
  const S = window.demoState = { slider: 0, tau: Infinity, lam: 0, map: mle, mle: mle, sd: sdMle, band: null };
  function normal(w, m, s) { return Math.exp(-0.5 * ((w - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI)); }

  function draw() {
    const s = +$("strength").value;
    const tau = tauAt(s), lam = isFinite(tau) ? (sigma * sigma) / (tau * tau) : 0;
    const post = posterior(lam);
    const grid = []; for (let i = 0; i <= 60; i++) grid.push(xs[0] + (xs[1] - xs[0]) * i / 60);
    const mean = grid.map((x) => ybar + post.map * (x - xbar));
    const half = grid.map((x) => 1.96 * Math.sqrt(sigma * sigma / n + (x - xbar) ** 2 * post.sd ** 2));
    Object.assign(S, { slider: s, tau: tau, lam: lam, map: post.map, sd: post.sd, band: half.reduce((a, b) => a + b, 0) / half.length * 2 });
    plot.clear().axes();
    plot.area(grid, mean.map((m, i) => m - half[i]), mean.map((m, i) => m + half[i]), { fill: PALETTE[1], opacity: 0.25, id: "band" });
    plot.path(xs, xs.map((x) => ybar + mle * (x - xbar)), { stroke: "#555", "stroke-dasharray": "6 4", id: "mle-line" });
    plot.path(grid, mean, { stroke: PALETTE[1], "stroke-width": 3, id: "map-line" });
    D.x.forEach((x, i) => plot.dot(x, D.y[i], 3.5, { fill: PALETTE[0] }));
    plot.legend([[T.data, PALETTE[0], "dot"], [T.mle, "#555", "line"], [T.map, PALETTE[1], "line"], [T.band, PALETTE[1], "box"]], "left");
    /* right: the likelihood (as a density of w), the prior and the posterior */
    const wg = []; for (let i = 0; i <= 200; i++) wg.push(wRange[0] + (wRange[1] - wRange[0]) * i / 200);
    const curves = [[wg.map((w) => normal(w, mle, sdMle)), "#555", T.likelihood, "6 4"],
      [wg.map((w) => (isFinite(tau) ? normal(w, 0, tau) : 0)), PALETTE[2], T.prior, ""],
      [wg.map((w) => normal(w, post.map, post.sd)), PALETTE[1], T.posterior, ""]];
    const top = Math.max(...curves.map((c) => Math.max(...c[0]))) * 1.3;
    dens.setRange(wRange, [0, top]);
    dens.clear().axes();
    curves.forEach(([v, colour, , dash]) => dens.path(wg, v, { stroke: colour, "stroke-dasharray": dash }));
    dens.path([0, 0], [0, top], { stroke: "#999", "stroke-width": 1 });
    dens.path([post.map, post.map], [0, top], { stroke: PALETTE[1], "stroke-width": 1, "stroke-dasharray": "2 3", id: "map-mark" });
    dens.legend(curves.map(([, colour, label, dash]) => [label, colour, "line"]), "left");
    $("status").textContent = s <= 0 ? T.flat + ": " + fmt(T.readout, { tau: "∞", lam: "0", map: num(post.map, 4), mle: num(mle, 4), sd: num(post.sd, 3) })
      : fmt(T.readout, { tau: num(tau, 3), lam: num(lam, 3), map: num(post.map, 4), mle: num(mle, 4), sd: num(post.sd, 3) });
  }
  S.posterior = posterior;
  $("strength").addEventListener("input", draw);
  draw();
})();

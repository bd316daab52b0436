"""The report's partial-pooling section: small groups, three estimates, REML beside (§5.6)."""

from __future__ import annotations

from freqbayes.i18n import _
from freqbayes.showcase.context import Context
from freqbayes.showcase.report import Section

#: NUTS settings of the hierarchical fit, quick or not. With 500 + 500 the largest r̂ was
#: above 1.01 for 2 of 8 seeds (seed 0 among them: 1.014) on an AVX-512 machine, where
#: earlier machines had passed; 1000 + 1000: at most 1.008 (2026-12-05).
SETTINGS = {"num_chains": 4, "num_warmup": 1000, "num_samples": 1000}


def pooling(ctx: Context) -> list[Section]:
    """No, complete and partial pooling of a radon-like simulation; REML's BLUPs beside."""
    from freqbayes import figures as F
    from freqbayes import lessons as L

    # quick too: 2 chains × 200 draws left r̂ at 1.02 (measured), the fit flagged
    p = L.partial_pooling(seed=ctx.seed, progress=False, **SETTINGS)
    ctx.fit(p.fit, "pooling-nuts")
    errors = p.errors()
    small = p.sizes <= 2
    return [
        Section(
            "pooling",
            _("Partial pooling: small groups borrow strength from the others (§5.6)"),
            _(
                "A simulated survey in the manner of the radon data: log radon of {n} houses "
                "in {groups} counties, {small} of them with one or two houses, a floor "
                "indicator as feature. Three estimates of each county's level. No pooling: "
                "each county its own intercept by maximum likelihood (unbiased, but noisy "
                "where a county has few houses). Complete pooling: one intercept for all "
                "(stable, but blind to real differences). Partial pooling: the hierarchical "
                "model log_radon ~ floor + (1 | county), county effects b_j ~ N(0, τ²) with "
                "τ learnt from all the counties, sampled by NUTS ({chains} chains × {draws} "
                "draws) in the non-centred form b_j = τ·z_j: each county is pulled toward "
                "the common level by the factor "
                "σ²/τ² ÷ (n_j + σ²/τ²), strongly where n_j is small. Its frequentist twin, "
                "the linear mixed model fitted by REML, shrinks the same way: its BLUPs sit "
                "beside the posterior means (τ: REML {tau_reml:.3f}, posterior mean "
                "{tau_post:.3f}; σ: {sigma_reml:.3f} and {sigma_post:.3f}). Error against the "
                "simulation's truth over the counties (root mean square): no pooling "
                "{no:.3f}, complete pooling {complete:.3f}, partial pooling {partial:.3f}, "
                "REML BLUP {blup:.3f}. The prior is what pulls the noisy estimates together; "
                "here the data choose how strongly, through τ."
            ).format(
                n=int(p.sizes.sum()),
                chains=SETTINGS["num_chains"],
                draws=SETTINGS["num_samples"],
                groups=len(p.levels),
                small=int(small.sum()),
                tau_reml=p.reml.tau,
                tau_post=p.tau_posterior_mean,
                sigma_reml=p.reml.sigma,
                sigma_post=p.sigma_posterior_mean,
                no=errors["no_pooling"],
                complete=errors["complete_pooling"],
                partial=errors["partial_pooling"],
                blup=errors["reml_blup"],
            ),
            [ctx.figure(F.shrinkage(p), "pooling-shrinkage", fits=("pooling-nuts",))],
            [ctx.table(p.table(), "pooling")],
            warnings=ctx.warnings(["pooling-nuts"]),
        )
    ]

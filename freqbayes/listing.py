"""What ``freqbayes list`` prints, known without importing a model or a method (no JAX).

The built-in models and methods are declared in modules that import JAX and NumPyro
(about 2 s); ``freqbayes list`` needs only their names, one-line descriptions, default
data and which methods apply to which model. :data:`BUILTIN` holds those, copied from
the declarations; ``tests/test_cli.py`` checks that it equals :func:`from_registries`,
so it cannot drift. After changing a declaration, ``python -m freqbayes.listing`` prints
the table to paste below. A model or method registered at run time or by a plugin (or a
built-in replaced) is read from the registries instead, which imports its module.
"""

from __future__ import annotations

from typing import Any

from freqbayes.inference.registry import METHODS
from freqbayes.models.registry import MODELS

#: The built-ins as their declarations say (checked against the registries by a test):
#: models (about, default data, the methods that apply, space-separated), methods (about),
#: bundled datasets.
BUILTIN: dict[str, Any] = {
    "models": {
        "gaussian": (
            "x_i ~ N(μ, σ²) (§5.5–5.6): the MLE is x̄ and the biased 1/n "
            "variance; with a Normal-Inverse-Gamma prior the posterior is exact.",
            "iris-setosa",
            "mle map laplace svi svi-fullrank nuts wald profile bootstrap",
        ),
        "linear": (
            "y = b + θᵀx + ε, ε ~ N(0, σ²) (eq. 5.80): OLS is the conditional MLE, "
            "ridge the MAP under a Gaussian prior (λ = σ²/τ²), the posterior exact "
            "for conjugate priors.",
            "diabetes",
            "mle map laplace svi svi-fullrank nuts sgld hmcecs wald profile bootstrap",
        ),
        "logistic": (
            "p(y = 1 | x) = σ(θᵀx + b) (eq. 5.81): no closed form; the MLE does "
            "not exist under separation (detected).",
            "breast-cancer",
            "mle map laplace svi svi-fullrank nuts sgld hmcecs wald profile bootstrap",
        ),
        "poisson": (
            "counts y ~ Poisson(exp(b + θᵀx)) (log link): the MLE does not exist "
            "for all-zero counts or zeros separated from the rest (detected).",
            "its own",
            "mle map laplace svi svi-fullrank nuts sgld hmcecs wald profile bootstrap",
        ),
        "negbinomial": (
            "over-dispersed counts y ~ NB2(exp(b + θᵀx), α), Var y = μ + αμ² "
            "(log link, α estimated); α → 0 is the Poisson.",
            "its own",
            "mle map laplace svi svi-fullrank nuts sgld hmcecs wald profile bootstrap",
        ),
        "binomial": (
            "successes y out of m trials (a column 'trials'), logit p = b + θᵀx: "
            "the MLE does not exist under separation (detected).",
            "its own",
            "mle map laplace svi svi-fullrank nuts sgld hmcecs wald profile bootstrap",
        ),
        "robust": (
            "y = b + θᵀx + σε, ε ~ Student-t(ν), ν estimated: outliers pull the fit "
            "little; ν → ∞ is the linear model.",
            "its own",
            "mle map laplace svi svi-fullrank nuts sgld hmcecs wald profile bootstrap",
        ),
        "mixture": (
            "x ~ Σ_k w_k N(μ_k, σ_k² I) (§3.9.6; k-means' twin, §5.8.2): the MLE "
            "by EM, the posterior by NUTS; components ordered by their first "
            "coordinate.",
            "its own",
            "nuts em",
        ),
        "gpc": (
            "p(y = 1 | x) = σ(f(x)), f ~ GP(0, s² exp(−γ‖x − x′‖²)) (the RBF SVM's "
            "twin, §5.7.2): Laplace by Rasmussen & Williams' Algorithm 3.1, or NUTS.",
            "its own",
            "laplace nuts",
        ),
    },
    "methods": {
        "mle": "maximum-likelihood estimate: L-BFGS then Newton on log p(y | θ) (§5.5)",
        "map": "maximum a posteriori: L-BFGS then Newton on log p(θ, y) (§5.6.1)",
        "laplace": "Laplace approximation: a Gaussian at the posterior mode, inverse "
        "Hessian covariance",
        "svi": "variational inference, mean-field Gaussian guide (AutoNormal)",
        "svi-fullrank": "variational inference, full-rank Gaussian guide (AutoMultivariateNormal)",
        "nuts": "NUTS (NumPyro's kernel), 4 chains × (1000 warm-up + 1000 draws): the "
        "exact posterior",
        "sgld": "stochastic-gradient Langevin dynamics: SGD plus noise on minibatches (§5.9)",
        "hmcecs": "HMC with energy-conserving subsampling (NumPyro's HMCECS, Taylor control "
        "variates at the MAP): NUTS on minibatches",
        "wald": "Wald 95% intervals: MLE ± 1.96 se from the observed information (and sandwich)",
        "profile": "profile-likelihood 95% intervals: the likelihood-ratio test inverted "
        "per parameter",
        "bootstrap": "bootstrap: the MLE refitted on 2,000 resampled data sets; percentile and BCa",
        "em": "expectation-maximisation: the Gaussian mixture's maximum-likelihood estimate",
    },
    "datasets": ("iris-setosa", "diabetes", "breast-cancer"),
}


def from_registries() -> dict[str, Any]:
    """:data:`BUILTIN` as the registries give it now (imports every model and method)."""
    from freqbayes.models.data import DATASETS

    methods = {name: method.about for name, method in METHODS.items()}
    models = {}
    for name, model in MODELS.items():
        data = model.default_data if isinstance(model.default_data, str) else "its own"
        applies = " ".join(m for m in methods if METHODS.get(m).applies_to(model))
        models[name] = (model.about, data or "none", applies)
    return {"models": models, "methods": methods, "datasets": tuple(DATASETS)}


def current() -> dict[str, Any]:
    """The table ``freqbayes list`` prints: :data:`BUILTIN`, unless an entry is not built in.

    Only when a model or a method was registered at run time or by a plugin, or a built-in
    replaced, are the registries read (:func:`from_registries`, which loads JAX).
    """
    names = (MODELS.names(), METHODS.names())
    builtin = (BUILTIN["models"], BUILTIN["methods"])
    registries = (MODELS, METHODS)
    if all(
        list(table) == listed and all(registry.is_builtin(n) for n in listed)
        for table, listed, registry in zip(builtin, names, registries, strict=True)
    ):
        return BUILTIN
    return from_registries()


def lines() -> list[str]:
    """The lines of ``freqbayes list``: models (with their methods), methods, datasets."""
    table = current()
    out = ["models:"]
    for name, (about, data, applies) in table["models"].items():
        out.append(f"  {name:13s} {about} [default data: {data}]")
        out.append(f"  {'':13s} methods: {', '.join(applies.split())}")
    out.append("methods (or 'all'):")
    out += [f"  {name:13s} {about}" for name, about in table["methods"].items()]
    out.append(
        "datasets: " + ", ".join(table["datasets"]) + ", or a CSV or Parquet file (target "
        "column 'y', or any columns with --formula)"
    )
    return out


if __name__ == "__main__":
    import pprint

    pprint.pprint(from_registries(), width=100, sort_dicts=False)

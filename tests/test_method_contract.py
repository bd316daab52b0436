"""Every registered method meets the contracts CONTRIBUTING.md states ("A new method").

Built from the registry: a method added to it is checked here without a line written
for it. Each general method runs at its quick settings on a tiny regression (n = 30,
two features), so that every one applies; a method made for one model (``em``) runs on
the first registered model that names it, on that model's default data (its sites are
listed in :data:`SITES`). The compiled programs are reused by the second fit.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from freqbayes.inference import fit, parse_methods
from freqbayes.inference.probabilistic.method import Budget, Method
from freqbayes.inference.registry import METHODS
from freqbayes.models.dataset import Dataset
from freqbayes.models.registry import get_model

NAMES = METHODS.names()

#: Keywords every method takes beside its own settings (Method.fit's).
TEMPLATE = {"seed", "priors", "pointwise", "prior_draws", "progress"}


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = 1.0 + X @ np.array([0.5, -0.3]) + 0.4 * rng.normal(size=30)
    return Dataset("tiny", y, X, ("a", "b"))


#: The latent sites (and their shapes) of each model a method is checked on.
SITES = {
    "linear": {"beta": (2,), "intercept": (), "sigma": ()},
    "mixture": {"weights": (3,), "mu": (3, 2), "sigma": (3,)},
}


@pytest.fixture(scope="module")
def case(tiny):
    """Method name → (model name, data): the tiny regression, or the model that names it."""
    from freqbayes.models.data import load
    from freqbayes.models.registry import MODELS

    def of(name: str) -> tuple[str, Dataset]:
        if METHODS.get(name).general:
            return "linear", tiny
        model = next(m for _, m in MODELS.items() if name in (m.methods or ()))
        return model.name, load(None, model)

    return of


def _fit(name: str, model: str, data: Dataset, seed: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # short chains may warn; not judged here
        return fit(model, name, data, seed=seed, **METHODS.get(name).quick)


@pytest.fixture(scope="module")
def fits(case):
    """Per method, made when first asked for: two fits with seed 1 and one with seed 2."""
    made = {}

    def of(name: str) -> tuple:
        if name not in made:
            model, data = case(name)
            made[name] = tuple(_fit(name, model, data, seed) for seed in (1, 1, 2))
        return made[name]

    return of


@pytest.mark.parametrize("name", NAMES)
def test_draws_have_every_site_in_chain_draw_shape(fits, case, name):
    """Draws: every latent site, (chain, draw, *site), finite; a point is 1 × 1; the shape
    recorded as num_chains, num_samples."""
    tree = fits(name)[0]
    method = METHODS.get(name)
    model, data = case(name)
    shapes = SITES[model]
    assert set(shapes) <= set(tree.posterior.data_vars), name
    chains, draws = tree.posterior.sizes["chain"], tree.posterior.sizes["draw"]
    for site, shape in shapes.items():
        values = np.asarray(tree.posterior[site])
        assert values.shape == (chains, draws, *shape), (name, site)
        assert np.isfinite(values).all(), (name, site)
    if method.kind == "point":
        assert (chains, draws) == (1, 1)
    settings = json.loads(tree.attrs["settings"])
    assert (settings["num_chains"], settings["num_samples"]) == (chains, draws)
    for key, value in method.quick.items():
        assert settings[key] == value, (name, key)
    observed = get_model(model).observed
    assert tree.posterior_predictive[observed].shape[:3] == (chains, draws, data.n)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_draws_another_seed_other_draws(fits, case, name):
    """Keys: the same seed gives bit-identical draws; another seed other draws (not a point)."""
    first, again, other = fits(name)
    sites = SITES[case(name)[0]]
    for site in sites:
        np.testing.assert_array_equal(first.posterior[site], again.posterior[site])
    if METHODS.get(name).kind == "draws":
        site = next(iter(sites))
        assert not np.array_equal(first.posterior[site], other.posterior[site]), name


@pytest.mark.parametrize("name", NAMES)
def test_prior_groups_follow_the_declared_flag(fits, name):
    """Flags: the prior groups are there exactly when the estimate uses the prior."""
    tree = fits(name)[0]
    method = METHODS.get(name)
    uses = method.prior_used(method.configure(**method.quick))
    assert ("prior" in tree.children) == uses, name
    assert tree.attrs["independent_draws"] == int(method.independent)
    assert ("draw_diagnostics" in tree.attrs) == method.diagnose
    if "confidence_interval" in tree.children:  # a sampling distribution says so
        assert tree.attrs["inference"] == "frequentist"


@pytest.mark.parametrize("name", NAMES)
def test_settings_are_declared_and_checked(case, name):
    """Settings: unknown ones are a TypeError, a bad value a one-line ValueError naming it;
    both before any work (no data is even read: a bad dataset name is not reached)."""
    method = METHODS.get(name)
    model, data = case(name)
    with pytest.raises(TypeError, match="unknown settings"):
        fit(model, name, data, no_such_setting=1)
    for setting in method.constraints:
        with pytest.raises(ValueError, match=setting):
            method.fit(model, "no-such-dataset", **{setting: object()})
    with pytest.raises(ValueError, match="seed"):
        method.fit(model, data, seed=-1)
    method.configure(**method.quick)  # the quick settings pass their own checks


@pytest.mark.parametrize("name", [n for n in NAMES if METHODS.get(n).calibration])
def test_calibration_settings_are_ones_the_method_takes(name):
    """SBC calls a method only with its own settings or the template's keywords."""
    method = METHODS.get(name)
    settings = method.calibration(Budget(19, 150, 3, 1000, 500, 5))
    own = {k: v for k, v in settings.items() if k not in TEMPLATE}
    method.configure(**own)
    assert method.kind == "draws" and method.prior_used(method.configure(**own))


def test_methods_needing_features_are_skipped_or_refused():
    gaussian = get_model("gaussian")
    needing = [n for n in NAMES if METHODS.get(n).needs_features]
    assert needing and not set(needing) & set(parse_methods("all", gaussian))
    with pytest.raises(ValueError, match="needs features X"):
        parse_methods(needing[0], gaussian)
    with pytest.raises(ValueError, match="needs a model with features X"):
        METHODS.get(needing[0]).fit("gaussian", None)


def test_a_declaration_naming_no_setting_is_refused():
    from typing import NamedTuple

    class Settings(NamedTuple):
        num_samples: int = 10

    with pytest.raises(ValueError, match="num_chains"):
        Method("x", lambda problem, key, settings: None, Settings, quick={"num_chains": 2})
    with pytest.raises(TypeError, match="NamedTuple"):
        Method("x", lambda problem, key, settings: None, dict)


def test_calibration_reads_the_declarations():
    """SBC's methods per model are the registered ones declaring ``calibration`` that apply."""
    from typing import NamedTuple

    from freqbayes.inference.probabilistic import calibration as C

    class Settings(NamedTuple):
        num_samples: int = 10

    extra = Method("sbc-extra", lambda problem, key, settings: None, Settings,
                   needs_features=True, calibration=lambda b: {"num_samples": b.draws})  # fmt: skip
    METHODS.register(extra)
    try:
        assert "sbc-extra" in C.calibrated("linear")
        assert "sbc-extra" not in C.calibrated("gaussian")  # needs features
        assert C.QUICK.of("sbc-extra") == {**C.COMMON, "num_samples": C.QUICK.draws}
    finally:
        METHODS.unregister("sbc-extra")
    declared = {n for n in NAMES if METHODS.get(n).calibration is not None}
    assert set(C.METHODS["linear"]) == declared
    assert "mle" not in declared and "bootstrap" not in declared

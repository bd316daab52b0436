"""Every registered method meets the contracts CONTRIBUTING.md states ("A new method").

Built from the registry: a method added to it is checked here without a line written
for it. Each runs at its quick settings on a tiny regression (n = 30, two features),
so that every method applies; the compiled programs are reused by the second fit.
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


def _fit(name: str, data: Dataset, seed: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # short chains may warn; not judged here
        return fit("linear", name, data, seed=seed, **METHODS.get(name).quick)


@pytest.fixture(scope="module")
def fits(tiny):
    """Per method, made when first asked for: two fits with seed 1 and one with seed 2."""
    made = {}

    def of(name: str) -> tuple:
        if name not in made:
            made[name] = (_fit(name, tiny, 1), _fit(name, tiny, 1), _fit(name, tiny, 2))
        return made[name]

    return of


def _latent_shapes() -> dict[str, tuple[int, ...]]:
    return {"beta": (2,), "intercept": (), "sigma": ()}


@pytest.mark.parametrize("name", NAMES)
def test_draws_have_every_site_in_chain_draw_shape(fits, name):
    """Draws: every latent site, (chain, draw, *site), finite; a point is 1 × 1; the shape
    recorded as num_chains, num_samples."""
    tree = fits(name)[0]
    method = METHODS.get(name)
    shapes = _latent_shapes()
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
    assert tree.posterior_predictive["y"].shape == (chains, draws, 30)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_draws_another_seed_other_draws(fits, name):
    """Keys: the same seed gives bit-identical draws; another seed other draws (not a point)."""
    first, again, other = fits(name)
    for site in _latent_shapes():
        np.testing.assert_array_equal(first.posterior[site], again.posterior[site])
    if METHODS.get(name).kind == "draws":
        assert not np.array_equal(first.posterior["beta"], other.posterior["beta"]), name


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
def test_settings_are_declared_and_checked(tiny, name):
    """Settings: unknown ones are a TypeError, a bad value a one-line ValueError naming it;
    both before any work (no data is even read: a bad dataset name is not reached)."""
    method = METHODS.get(name)
    with pytest.raises(TypeError, match="unknown settings"):
        fit("linear", name, tiny, no_such_setting=1)
    for setting in method.constraints:
        with pytest.raises(ValueError, match=setting):
            method.fit("linear", "no-such-dataset", **{setting: object()})
    with pytest.raises(ValueError, match="seed"):
        method.fit("linear", tiny, seed=-1)
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
    with pytest.raises(ValueError, match="needs a model with features"):
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

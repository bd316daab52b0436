"""Prediction on new rows from a saved fit: draws of the outcome given each parameter draw.

``predict(fit, new_data)`` runs the fit's program (a registered model, found by the
name in its attrs, or your own program passed as ``model``) at every posterior draw
with the new inputs: the posterior predictive p(ỹ | x̃, data) for a posterior, the
plug-in p(ỹ | x̃, θ̂) for a point estimate. New rows of a table fitted with a formula
are coded as the formula coded the fit's data (same categorical levels, and the state
its transforms such as ``center(x)`` learnt from the fitted rows); without a formula
the columns are found by the fit's feature names. Group-level terms ``(1 | g)`` take
the fitted groups' effects; a group unseen in the fit is drawn from the population
(:mod:`freqbayes.models.probabilistic.groups`). The draws keep the fit's names: its
observed variable (a formula's target column) and, for a program, the dims of its plates.
Only the latent sites are taken from the fit: deterministic ones follow from them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np
import xarray as xr
from arviz_base import from_dict
from numpyro.handlers import seed as seed_handler
from numpyro.handlers import substitute, trace

from freqbayes.inference.dtypes import on_device
from freqbayes.inference.probabilistic.datatree import simulate_many
from freqbayes.inference.probabilistic.problem import _placeholder, as_jax, check_seed
from freqbayes.models import tables
from freqbayes.models.checks import as_finite_array
from freqbayes.models.probabilistic import groups
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.model import Model
from freqbayes.models.registry import get_model


def _features(fit: xr.DataTree, data: Any) -> tuple[np.ndarray, list[str]]:
    """The new rows' design matrix, coded as the fit's data were."""
    names = list(fit["posterior"]["beta"].coords["feature"].values.astype(str))
    if isinstance(data, str):
        data = tables.read_table(data)
    if hasattr(data, "columns"):
        if "data_formula_rhs" in fit.attrs:
            X, cols = tables.design_for(
                data, fit.attrs["data_formula_rhs"], fit.attrs["data_formula_state"]
            )
            return X, list(cols)
        missing = [c for c in names if c not in data.columns]
        if missing:
            raise ValueError(f"data: the new rows lack the fit's feature(s) {', '.join(missing)}")
        data = data[names].to_numpy(dtype=float)
    X = as_finite_array(data, "X", 2)
    if X.shape[1] != len(names):
        raise ValueError(f"X has {X.shape[1]} columns; the fit has {len(names)} features")
    return X, names


def _group_inputs(fit: xr.DataTree, data: Any, inputs: dict[str, Any], n: int) -> dict[str, Any]:
    """The new rows' group-level arguments (into ``inputs``); an unseen level is a new group."""
    if not hasattr(data, "columns"):
        raise ValueError("data: a fit with group-level terms predicts from a table with its groups")
    more, _ = groups.inputs_for(data, fit.attrs["data_group_state"])
    inputs.update({k: as_jax(v) for k, v in more.items()})
    return {k: more[k] for k in ("group_index", "group_design")}


def _latent_sites(
    program: Any, observed: str, static: tuple[tuple[str, int], ...], inputs: Mapping[str, Any]
) -> set[str]:
    """The program's latent sample sites on the new inputs, found without compiling."""
    names: set[str] = set()

    def run(kwargs: Mapping[str, Any]) -> int:
        model = substitute(seed_handler(program, 0), substitute_fn=_placeholder)
        tr = trace(model).get_trace(**kwargs, **dict(static))
        names.update(k for k, site in tr.items() if site["type"] == "sample" and k != observed)
        return 0

    jax.eval_shape(run, dict(inputs))
    return names


def predict(
    fit: xr.DataTree,
    data: Any,
    *,
    model: Any = None,
    seed: int = 0,
) -> xr.DataTree:
    """Draws of the outcome for new rows, one per posterior draw of the fit.

    Parameters
    ----------
    fit : DataTree
        A fit (from any method; a point estimate gives the plug-in predictive).
    data : DataFrame, array, str, dict or int
        The new rows: a DataFrame or a CSV/Parquet path (coded by the fit's formula, or
        columns named as the fit's features), an array X (n, d), an int n (a model
        without features: n new observations), or a dict of a program's inputs.
    model : Model, str or callable, optional
        The fit's model (default: the registered model named in the fit's attrs); your
        own program for a fit of one.
    seed : int
        Seed of the draws.

    Returns
    -------
    DataTree
        ``posterior_predictive`` (chain, draw, obs), named as the fit's observed
        variable, and ``constant_data`` (the new X, or the program's new inputs).
    """
    seed = check_seed(seed)
    model = model if model is not None else fit.attrs["model"]
    if isinstance(model, str):
        model = get_model(model)
    if getattr(model, "no_prediction", ""):
        raise ValueError(
            f"predict: model {model.name!r} cannot predict new rows: {model.no_prediction}"
        )
    post = fit["posterior"].to_dataset()
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    # the fit's names: its observed variable (a formula's target, a program's site) and dims
    if "observed_data" in fit.children:
        name = str(next(iter(fit["observed_data"].data_vars)))
        fitted = {name: list(fit["observed_data"][name].dims)}
    else:  # a fit of a table read in chunks (svi_stream) holds none of its rows
        if "observed_variable" not in fit.attrs:
            raise ValueError("predict: this fit has no observed_data and no observed_variable")
        name = str(fit.attrs["observed_variable"])
        fitted = {name: ["obs"]}
    if "constant_data" in fit.children:
        fitted |= {str(k): list(v.dims) for k, v in fit["constant_data"].data_vars.items()}
    constant: dict[str, np.ndarray] = {}
    coords: dict[str, Any] = {}
    if isinstance(model, Model):
        stored = json.loads(fit.attrs.get("priors", "{}"))
        priors = {k: P.from_repr(v) for k, v in stored.items()}
        if model.uses_X:
            if isinstance(data, str):
                data = tables.read_table(data)
            X, names = _features(fit, data)
            X, names, more = model.prediction_inputs(X, names, data)
            n, inputs = X.shape[0], {"X": on_device(X), **{k: as_jax(v) for k, v in more.items()}}
            constant, coords = {"X": X, **more}, {"feature": names}
            if "data_group_state" in fit.attrs:
                constant |= _group_inputs(fit, data, inputs, n)
        else:
            if isinstance(data, bool) or not isinstance(data, int) or data < 1:
                raise ValueError(f"data: give the number of new observations; got {data!r}")
            n, inputs = data, {}
        program, observed = model.program, model.observed
        static = model.simulation_inputs(n)
        inputs.update(priors)
    else:
        from freqbayes.models.probabilistic.program import Program, split_static

        if not isinstance(data, Mapping):
            raise ValueError("data: a program's new inputs are a dict of its arguments")
        observed = name
        scalars, arrays = split_static(data)
        program, static = Program(model, observed, observed, scalars), ()
        constant = {k: np.asarray(v) for k, v in arrays.items()}
        inputs = {k: as_jax(v) for k, v in constant.items()}
    # the latent sites only: deterministic ones are recomputed (they may be sized by the data)
    latent = _latent_sites(program, observed, static, inputs)
    params = {
        k: jax.device_put(np.asarray(v.values).reshape(chains * draws, *v.shape[2:]))
        for k, v in post.items()
        if k in latent
    }
    ys = simulate_many(program, observed, static, params, jax.random.key(seed), inputs)
    ys = np.asarray(ys).reshape(chains, draws, *np.shape(ys)[1:])
    groups = {"posterior_predictive": {name: ys}}
    if constant:
        groups["constant_data"] = constant
    if isinstance(model, Model):
        dims = {name: ["obs"], "X": ["obs", "feature"]}
        dims |= {"group_index": ["obs"], "group_design": ["obs", "group_term"]}
        dims |= {k: ["obs"] for k in constant if k not in dims}
    else:
        dims = {k: v for k, v in fitted.items() if k == name or k in constant}
    tree = from_dict(groups, dims=dims, coords=coords)
    tree.attrs.update(
        {"model": str(fit.attrs["model"]), "method": str(fit.attrs["method"]), "seed": seed}
    )
    return tree

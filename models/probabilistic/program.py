"""A user's own NumPyro program as a :class:`Model`: observed site and dims read off its trace.

``inference.fit(program, "nuts", data={"x": x, "y": y})`` fits a program the package
does not ship. :func:`program_model` runs the program once on the data (no JAX
compilation) and finds:

* the observed site (exactly one ``numpyro.sample(..., obs=...)``) and which data
  argument feeds it (it must default to ``None``: simulating new data, for the
  posterior predictive and for prediction on new rows, calls the program without it);
* the latent sites, which must be continuous (a discrete one has to be marginalised,
  as NUTS and the optimisers need gradients);
* the dims of every site from its plates (``numpyro.plate("school", 8)`` names the
  axis ``school``), as ArviZ dims, its ``numpyro.deterministic`` sites included (the
  DataTree keeps them in the posterior); the observed site's event dims (a
  ``Multinomial`` or ``MultivariateNormal``, with or without a plate) follow its batch
  dims.

Python numbers and strings in ``data`` are static arguments (they may size plates);
arrays are data. Integer arrays (group indices, counts) keep an integer type.
The program is fitted in its own unconstrained coordinates: it has no roles, so no
default priors follow the data's units (its priors are its own).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from freqbayes.models.checks import all_finite
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic.model import Model


@dataclass(frozen=True)
class Program:
    """The user's program called with the observed values under the observed site's name.

    Hashable (a static argument of the compiled fits), so a second fit of the same
    program with data of the same shapes compiles nothing.

    Attributes
    ----------
    fn : callable
        The user's NumPyro program.
    site : str
        Its observed site.
    arg : str
        The argument of ``fn`` that feeds the observed site.
    static : tuple of (str, object)
        Python numbers and strings passed to every call (e.g. a number of groups).
    """

    fn: Callable[..., Any]
    site: str
    arg: str
    static: tuple[tuple[str, Any], ...] = ()

    def __call__(self, **kwargs: Any) -> Any:
        """Run ``fn`` with the data (``kwargs[site]`` passed as ``arg``) and the static values."""
        if self.site != self.arg and self.site in kwargs:
            kwargs[self.arg] = kwargs.pop(self.site)
        return self.fn(**kwargs, **dict(self.static))


@dataclass(frozen=True)
class ProgramModel(Model):
    """A :class:`Model` made from a user's program by :func:`program_model`.

    Attributes
    ----------
    inputs : tuple of str
        The program's data arguments besides the observed one.
    """

    inputs: tuple[str, ...] = ()

    def data_arguments(self, data: Dataset) -> dict[str, np.ndarray]:
        """The program's data arguments: ``data.inputs`` and the observed values."""
        missing = [k for k in self.inputs if k not in data.inputs]
        if missing:
            raise ValueError(f"data: {self.name!r} needs {', '.join(missing)}")
        arrays = {k: _array(k, data.inputs[k]) for k in self.inputs}
        return {**arrays, self.observed: _array(self.observed, data.y)}

    def simulation_inputs(self, n: int) -> tuple[tuple[str, int], ...]:
        """Nothing: the program sizes its plates from its inputs."""
        return ()

    def coords(self, data: Dataset, n: int) -> tuple[dict[str, list[str]], dict[str, Any]]:
        """Dims from the plates (found when the model was made); coords are 0, 1, …."""
        return {k: list(v) for k, v in self.dims.items()}, {}


def _array(name: str, value: Any) -> np.ndarray:
    """A data argument as a numeric array: floats finite, integers and booleans as given."""
    try:
        a = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"data[{name!r}] is not an array: {err}") from None
    if a.dtype.kind not in "biuf":
        raise ValueError(f"data[{name!r}] must be numeric; got dtype {a.dtype}")
    if a.size == 0:
        raise ValueError(f"data[{name!r}] is empty (shape {a.shape})")
    if a.dtype.kind == "f" and not all_finite(a):
        bad = int(a.size - np.count_nonzero(np.isfinite(a)))
        raise ValueError(f"data[{name!r}] contains {bad} NaN or infinite value(s)")
    return a


def split_static(data: Mapping[str, Any]) -> tuple[tuple[tuple[str, Any], ...], dict[str, Any]]:
    """A program's data split into static values (Python numbers, strings) and arrays."""
    static = tuple(sorted((k, v) for k, v in data.items() if isinstance(v, int | float | str)))
    return static, {k: v for k, v in data.items() if k not in dict(static)}


def _dims(site: Mapping[str, Any], shape: tuple[int, ...]) -> tuple[str, ...]:
    """One dim name per axis of a site's value: its plate's name, else ``<site>_dim_<j>``.

    A plate's ``dim`` counts from the right of the *batch* shape; the event dims (a
    ``to_event`` or a multivariate distribution) come after it. A deterministic site has
    no distribution: its plates count from the right of its value's shape, and an axis
    whose length is not the plate's size keeps the generic name.
    """
    ndim, event = len(shape), int(getattr(site.get("fn"), "event_dim", 0))
    by_axis = {
        ndim - event + frame.dim: frame.name
        for frame in site["cond_indep_stack"]
        if 0 <= ndim - event + frame.dim < ndim and shape[ndim - event + frame.dim] == frame.size
    }
    return tuple(by_axis.get(j, f"{site['name']}_dim_{j}") for j in range(ndim))


def _trace(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> Any:
    from numpyro.handlers import seed, trace

    return trace(seed(fn, 0)).get_trace(**kwargs)


def program_model(
    fn: Callable[..., Any], data: Mapping[str, Any], name: str | None = None
) -> tuple[ProgramModel, Dataset]:
    """Wrap a NumPyro program and its data as a :class:`ProgramModel` and a :class:`Dataset`.

    Parameters
    ----------
    fn : callable
        A NumPyro program taking its data as keyword arguments; the argument that
        feeds the observed site defaults to ``None``.
    data : mapping
        Keyword arguments of ``fn``: arrays (data), Python numbers or strings (static).
    name : str, optional
        The model's name in the DataTree's attrs (default: ``fn.__name__``).

    Raises
    ------
    ValueError
        One line naming the problem: an unknown argument, non-numeric or non-finite
        data, no or several observed sites, a discrete latent site, or a program that
        cannot run without its observed values.
    """
    if not callable(fn):
        raise TypeError(f"program: expected a NumPyro program (a function); got {fn!r}")
    if not isinstance(data, Mapping) or not data:
        raise ValueError("data: a NumPyro program takes its data as a dict of its arguments")
    name = name or getattr(fn, "__name__", "program")
    params = inspect.signature(fn).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [k for k in data if k not in params and not takes_any]
    if unknown:
        raise ValueError(
            f"data: program {name!r} has no argument {', '.join(map(repr, unknown))}; "
            f"its arguments: {', '.join(params)}"
        )
    static, given = split_static(data)
    arrays = {k: _array(k, v) for k, v in given.items()}
    try:
        tr = _trace(fn, {**arrays, **dict(static)})
    except Exception as err:  # the user's code: any error is theirs, reported on one line
        raise ValueError(
            f"program {name!r} failed on the data: {type(err).__name__}: {err}"
        ) from None
    observed = [s for s in tr.values() if s["type"] == "sample" and s["is_observed"]]
    if len(observed) != 1:
        found = ", ".join(s["name"] for s in observed) or "none"
        raise ValueError(
            f"program {name!r}: freqbayes fits programs with exactly one observed site "
            f"(numpyro.sample(..., obs=...)); found {found}"
        )
    site = observed[0]
    value = np.asarray(site["value"])
    if tuple(site["fn"].shape()) != value.shape:
        raise ValueError(
            f"program {name!r}: its observed site {site['name']!r} has values of shape "
            f"{value.shape} but a distribution of shape {tuple(site['fn'].shape())} "
            "(data arrays of different lengths?)"
        )
    feeding = [k for k, a in arrays.items() if a.shape == value.shape and np.array_equal(a, value)]
    if not feeding:
        raise ValueError(
            f"program {name!r}: the values of its observed site {site['name']!r} are not "
            "one of the data arrays; pass them in data"
        )
    arg = site["name"] if site["name"] in feeding else feeding[0]
    if site["name"] != arg and site["name"] in params:
        raise ValueError(
            f"program {name!r}: its observed site {site['name']!r} shares a name with "
            f"another argument; rename the site or the argument {arg!r}"
        )
    inputs = {k: v for k, v in arrays.items() if k != arg}
    try:
        _trace(fn, {**inputs, **dict(static)})
    except Exception as err:  # the user's code, run without the observed values
        raise ValueError(
            f"program {name!r} cannot run without {arg!r} ({type(err).__name__}: {err}); "
            f"give {arg} a default None and size its plates from the other data: simulating "
            "new data (the predictive) calls it without the observed values"
        ) from None
    latent = [s for s in tr.values() if s["type"] == "sample" and not s["is_observed"]]
    if not latent:
        raise ValueError(f"program {name!r} has no latent (unobserved) sample site to fit")
    discrete = [s["name"] for s in latent if s["fn"].support.is_discrete]
    if discrete:
        raise ValueError(
            f"program {name!r}: latent site(s) {', '.join(discrete)} are discrete; "
            "marginalise them (NUTS and the optimisers need gradients)"
        )
    kept = [s for s in tr.values() if s["type"] == "deterministic"]  # in the posterior too
    dims = {s["name"]: _dims(s, np.shape(s["value"])) for s in (*latent, *kept, site)}
    model = ProgramModel(
        name,
        Program(fn, site["name"], arg, static),
        site["name"],
        uses_X=False,
        dims=dims,
        about=(inspect.getdoc(fn) or "").split("\n\n")[0].replace("\n", " "),
        inputs=tuple(sorted(inputs)),
    )
    dataset = Dataset(
        "data",
        arrays[arg],
        attrs={"source": f"data of the NumPyro program {name!r}"},
        inputs=inputs,
    )
    return model, dataset

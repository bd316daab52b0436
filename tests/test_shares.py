"""Each process of a multi-process run reads only its own rows (inference/probabilistic/shares).

In one process, without JAX's distributed runtime: the reader is given a process index,
the process count and the device count, and the collective is played by hand (each
process's summaries or verdicts stacked in process order). The two-process run itself
is tests/test_sharded.py's (it reads a Parquet copy of its table in shares).
"""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from freqbayes.inference.probabilistic import rows, shares
from freqbayes.models import pieces, tables
from freqbayes.models.probabilistic import scaling
from freqbayes.models.probabilistic.existence import SeparationError
from freqbayes.models.registry import get_model

FORMULA = "y ~ a + np.log(b) + C(g) + d"


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory):
    """1,001 rows in row groups of 100; columns whose distinct values differ by share.

    ``d`` takes {0, 1} in the first half and {1, 2} in the second (two values in each
    share, three in all: its scale is the sd, not a range); ``e`` is 5 then 7 (constant in
    each share, two values in all: its scale is the range 2).
    """
    rng = np.random.default_rng(1)
    n = 1001
    half = np.arange(n) >= 512
    frame = pd.DataFrame(
        {
            "a": rng.normal(1e4, 3.0, n),
            "b": rng.uniform(1.0, 9.0, n).astype(np.float32),
            "g": rng.choice(["east", "north", "west"], n),
            "d": rng.integers(0, 2, n) + half,
            "e": np.where(half, 7.0, 5.0),
            "y": rng.normal(50.0, 4.0, n),
        }
    )
    path = tmp_path_factory.mktemp("shares") / "t.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=100)
    return path


def _merged(parts: list) -> list:
    """Each part with the summaries of every part merged (what the allgather gives)."""
    merged = shares.merge_summaries([p.share.summaries for p in parts])
    return [dataclasses.replace(p, share=dataclasses.replace(p.share, summaries=merged))
            for p in parts]  # fmt: skip


@pytest.mark.parametrize("count, devices", [(2, 2), (2, 4), (3, 3)])
def test_each_process_reads_exactly_its_rows_and_its_padding(table, monkeypatch, count, devices):
    monkeypatch.setattr(pieces, "BATCH_ROWS", 64)  # pieces cross the shares' edges
    model = get_model("linear")
    whole = tables.from_file(table, model, FORMULA)
    padded = rows.padded_arguments(model, model.data_arguments(whole), devices)
    size = len(padded[rows.ROW_MASK])
    assert size % devices == 0 and size >= whole.n
    ends = []
    for index in range(count):
        data = shares.read_share(table, model, FORMULA, index=index, count=count, devices=devices)
        share = data.share
        ends.append((share.begin, share.end))
        assert (share.n, share.size, data.n) == (whole.n, size, whole.n)
        assert (share.start, share.stop) == (min(share.begin, whole.n), min(share.end, whole.n))
        assert np.array_equal(data.X[: share.real], whole.X[share.start : share.stop])
        assert np.array_equal(data.y[: share.real], whole.y[share.start : share.stop])
        assert data.feature_names == whole.feature_names and data.attrs == whole.attrs
        local = shares.local_arguments(model, model.data_arguments(data), share)
        for k in ("X", "y", rows.ROW_MASK):  # this process's rows of the padded whole
            assert np.array_equal(local[k], padded[k][share.begin : share.end]), k
    assert ends == [(i * size // count, (i + 1) * size // count) for i in range(count)]


def test_merged_summaries_give_the_whole_tables_scaling_and_priors(table):
    model = get_model("linear")
    whole = tables.from_file(table, model, "y ~ a + b + d + e")
    arrays = model.data_arguments(whole)
    priors = model.resolve_priors(None, arrays)
    expected = model.scaling(arrays, priors)
    parts = [shares.read_share(table, model, "y ~ a + b + d + e", index=i, count=2, devices=2)
             for i in range(2)]  # fmt: skip
    assert [p.share.summaries["X"].more.tolist() for p in parts] == [[True, True, False, False]] * 2
    for part in _merged(parts):
        real = shares.real_rows(model, model.data_arguments(part), part.share)
        stand_in = shares.stand_ins(real, part.share)
        got_priors = model.resolve_priors(None, stand_in)
        got = model.scaling(stand_in, got_priors)
        for a, b in zip(expected, got, strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-12)
        assert got.x_scale[3] == 2.0 and got.x_scale[2] == pytest.approx(np.std(whole.X[:, 2]))
        for k, prior in priors.items():
            np.testing.assert_allclose(
                np.ravel(got_priors[k].scale), np.ravel(prior.scale), rtol=1e-12
            )


def test_the_summaries_cross_the_collective_bit_for_bit():
    rng = np.random.default_rng(0)
    s = scaling.summarise(rng.normal(size=(50, 3)))
    again = scaling.RowSummary.from_array(s.as_array())
    for a, b in zip(s, again, strict=True):
        assert np.array_equal(a, b)
    y = scaling.summarise(rng.normal(size=50))
    assert scaling.RowSummary.from_array(y.as_array(), vector=True).outcome(True) == y.outcome(True)


def test_summaries_in_threads_are_the_columns_statistics_on_any_number_of_cores(
    monkeypatch, thread_pools
):
    """Chunks of 70 rows summarised in 3 threads: NumPy's statistics, and the same bits on
    one core (the chunks merge in order whatever the threads)."""
    rng = np.random.default_rng(1)
    X = np.c_[rng.normal(3.0, 2.0, size=(1000, 2)), rng.integers(0, 2, 1000)]
    from freqbayes.models import threads

    monkeypatch.setattr(scaling, "CHUNK_VALUES", 210)
    monkeypatch.setattr(scaling, "BLOCK_VALUES", 48)
    summaries = []
    for cores in (3, 1):
        monkeypatch.setattr(threads, "usable_cores", lambda cores=cores: cores)
        summaries.append(scaling.summarise(X))
    assert thread_pools == [3]  # 15 chunks of 70 rows in 3 threads, then in this thread
    got, one_core = summaries
    assert got.n == 1000
    np.testing.assert_allclose(got.mean, X.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(got.m2, ((X - X.mean(axis=0)) ** 2).sum(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(got.lo, X.min(axis=0))
    np.testing.assert_array_equal(got.hi, X.max(axis=0))
    np.testing.assert_array_equal(got.more, [True, True, False])
    for a, b in zip(got, one_core, strict=True):
        assert np.array_equal(a, b)


def test_a_share_that_fails_the_existence_check_stops_every_process():
    """Separated labels in one share: every process raises the same named error."""
    model = get_model("logistic")
    X = np.r_[np.linspace(-1, 1, 20), np.linspace(-1, 1, 20)][:, None]
    y = np.r_[np.arange(20) % 2, (np.arange(20) >= 10)].astype(float)  # 2nd half separated
    priors = model.resolve_priors(None, {"X": X, "y": y})
    sent = []

    def alone(a: np.ndarray) -> np.ndarray:
        sent.append(a)
        return a[None]

    made = []
    for start in (0, 20):
        share = shares.Share(start, start + 20, 40, 40, start, start + 20)
        arrays = {"X": X[start : start + 20], "y": y[start : start + 20]}
        made.append((arrays, share))
        try:
            shares.check(model, "likelihood", arrays, priors, share, gather=alone)
        except SeparationError:
            pass
    assert [bool(a.any()) for a in sent] == [False, True]
    both = np.stack(sent)
    for arrays, share in made:
        with pytest.raises(SeparationError, match=r"on process rows 20:40 of 40: logistic MLE"):
            shares.check(model, "likelihood", arrays, priors, share, gather=lambda a: both)
    model.check("likelihood", {"X": X, "y": y}, priors)  # all rows together: not separated


def test_any_failure_of_a_shares_check_is_exchanged_so_no_process_waits():
    """A check that fails with another error on one share (here a broken check) still
    sends its verdict: both processes raise it, neither is left in the collective."""
    import dataclasses

    def broken(kind, arrays, priors):
        if arrays["X"][0, 0] > 0:
            raise np.linalg.LinAlgError("SVD did not converge")

    model = dataclasses.replace(get_model("logistic"), check=broken)
    X = np.r_[-np.ones(20), np.ones(20)][:, None]
    y = (np.arange(40) % 2).astype(float)
    made, sent = [], []

    def alone(verdict: np.ndarray) -> np.ndarray:
        sent.append(verdict)
        return verdict[None]

    for start in (0, 20):
        share = shares.Share(start, start + 20, 40, 40, start, start + 20)
        made.append(({"X": X[start : start + 20], "y": y[start : start + 20]}, share))
        try:
            shares.check(model, "likelihood", made[-1][0], None, share, gather=alone)
        except ValueError:
            pass
    assert [bool(v.any()) for v in sent] == [False, True]  # process 1 sent its failure
    both = np.stack(sent)
    for arrays, share in made:
        with pytest.raises(ValueError, match="rows 20:40 of 40: SVD did not converge"):
            shares.check(model, "likelihood", arrays, None, share, gather=lambda v: both)


def _peak(step) -> int:
    tracemalloc.start()
    try:
        step()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_process_holds_about_its_share_of_the_table(tmp_path, monkeypatch):
    """NumPy's peak while one of two processes reads and summarises: about half the table."""
    # the fixed buffers (a batch, a block of the summary, a chunk of the hash) made small
    # beside this small table, as they are beside a large one
    monkeypatch.setattr(pieces, "BATCH_ROWS", 2048)
    monkeypatch.setattr(pieces, "HASH_CHUNK", 1 << 16)
    monkeypatch.setattr(scaling, "BLOCK_VALUES", 1 << 14)
    rng = np.random.default_rng(0)
    n, d = 80_000, 25
    X = rng.standard_normal((n, d), dtype=np.float32)
    columns = {f"x{j}": X[:, j] for j in range(d)}
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({**columns, "y": (X[:, 0] > 0).astype(np.int64)}), path,
                   row_group_size=4096)  # fmt: skip
    model = get_model("logistic")
    table_bytes = X.nbytes + n * 8

    def whole() -> None:  # what every process did before: all rows, their scaling
        arrays = model.data_arguments(tables.as_dataset(path, model))
        model.scaling(arrays, model.resolve_priors(None, arrays))

    def share() -> None:
        data = shares.read_share(path, model, index=1, count=2, devices=2)
        arrays = shares.real_rows(model, model.data_arguments(data), data.share)
        stand_in = shares.stand_ins(arrays, data.share)
        model.scaling(stand_in, model.resolve_priors(None, stand_in))

    before, after = _peak(whole), _peak(share)
    print(f"peak MiB: whole {before / 2**20:.1f}, share {after / 2**20:.1f}, "
          f"table {table_bytes / 2**20:.1f}")  # fmt: skip
    # measured: whole 25.4 MiB, share 5.2 MiB, table 8.2 MiB (its half, the target as
    # float64 twice, one batch and the summary's blocks)
    assert before >= table_bytes
    assert after <= 0.65 * table_bytes and after <= before / 4


def test_a_process_without_real_rows_holds_padding_alone(tmp_path):
    """3 rows padded to 8 over 2 devices: process 1 holds rows 4:8, none of them real."""
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1.0, 2.0, 3.5], "y": [0, 1, 1]}).to_parquet(path, index=False)
    model = get_model("logistic")
    parts = [shares.read_share(path, model, "y ~ a", index=i, count=2, devices=2)
             for i in range(2)]  # fmt: skip
    empty = parts[1]
    assert (empty.share.start, empty.share.stop, empty.share.begin, empty.share.end) == (3, 3, 4, 8)
    local = shares.local_arguments(model, model.data_arguments(empty), empty.share)
    assert local["X"].tolist() == [[1.0]] * 4 and not local[rows.ROW_MASK].any()
    whole = model.data_arguments(tables.from_file(path, model, "y ~ a"))
    stand_in = shares.stand_ins(
        shares.real_rows(model, local, empty.share), _merged(parts)[1].share
    )
    got, expected = model.scaling(stand_in, {}), model.scaling(whole, {})
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_the_launcher_checks_the_tables_first_piece_in_one_line(tmp_path, capsys):
    """It reads no more than the first piece, and a bad table stops it before any process."""
    from freqbayes.cli import main

    path = tmp_path / "no_target.parquet"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]}).to_parquet(path, index=False)
    out = tmp_path / "out"
    argv = ["run", "logistic", "--data", str(path), "--method", "map", "--processes", "2",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no column named 'y'" in err[0], err
    assert not out.exists()


def _counts(name: str) -> tuple[pd.DataFrame, str | None]:
    """A small table for each model whose default priors read more than ``scaling_of``."""
    rng = np.random.default_rng(2)
    n = 301
    trials = rng.integers(1, 10, n)
    a = rng.normal(size=n)
    return {
        "poisson": (pd.DataFrame({"a": a, "y": rng.poisson(3.0, n)}), "y ~ a"),
        "negbinomial": (pd.DataFrame({"a": a, "y": rng.poisson(3.0, n)}), "y ~ a"),
        "binomial": (
            pd.DataFrame({"a": a, "trials": trials, "y": rng.binomial(trials, 0.3)}),
            "y ~ a + trials",
        ),
        "gaussian": (pd.DataFrame({"y": rng.normal(5.0, 2.0, n)}), None),
        "mixture": (pd.DataFrame({"x": np.r_[rng.normal(size=150), rng.normal(5, 1, 151)]}), None),
    }[name]


@pytest.mark.parametrize("name", ["poisson", "negbinomial", "binomial", "gaussian", "mixture"])
def test_every_model_that_shares_gets_the_whole_tables_priors(tmp_path, name):
    """The GLMs' link-scale centre (log ȳ, pooled logit with trials), the mixture's."""
    model = get_model(name)
    frame, formula = _counts(name)
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, index=False, row_group_size=50)
    arrays = model.data_arguments(tables.from_file(path, model, formula))
    expected = model.resolve_priors(None, arrays)
    parts = [shares.read_share(path, model, formula, index=i, count=2, devices=2)
             for i in range(2)]  # fmt: skip
    for part in _merged(parts):
        real = shares.real_rows(model, model.data_arguments(part), part.share)
        got = model.resolve_priors(None, shares.stand_ins(real, part.share))
        assert got.keys() == expected.keys()
        for k, prior in expected.items():
            assert type(got[k]) is type(prior)
            for a, b in zip(prior, got[k], strict=True):
                np.testing.assert_allclose(np.ravel(b), np.ravel(a), rtol=1e-12, err_msg=k)

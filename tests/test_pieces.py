"""Tables read in pieces: Parquet files and folders by row groups, hashes without copies."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from freqbayes.models import pieces, tables
from freqbayes.models.data import fingerprint
from freqbayes.models.dataset import Dataset
from freqbayes.models.registry import get_model

FORMULA = "score ~ iq * C(school) + np.log(hours) + late"


@pytest.fixture(scope="module")
def frame():
    """Raw units, a text column whose level 'west' first appears after the first piece."""
    rng = np.random.default_rng(3)
    n = 300
    school = rng.choice(["north", "south"], n).astype(object)
    school[250:] = "west"
    return pd.DataFrame(
        {
            "score": rng.normal(1000.0, 50.0, n),
            "iq": rng.normal(100.0, 15.0, n),
            "hours": rng.uniform(1.0, 40.0, n),
            "school": school,
            "late": rng.random(n) < 0.3,
            "unused": rng.normal(size=n),
        }
    )


def _pieces(frame: pd.DataFrame, folder, rows: int = 70) -> None:
    """The frame as a folder of Parquet files, each of small row groups."""
    folder.mkdir()
    for i, start in enumerate(range(0, len(frame), 2 * rows)):
        part = pa.Table.from_pandas(frame.iloc[start : start + 2 * rows], preserve_index=False)
        pq.write_table(part, folder / f"part-{i:02d}.parquet", row_group_size=rows)


def test_a_folder_a_file_and_a_csv_give_the_same_design_bit_for_bit(frame, tmp_path, monkeypatch):
    monkeypatch.setattr(pieces, "BATCH_ROWS", 50)  # many pieces even in a small table
    frame.to_csv(tmp_path / "t.csv", index=False)
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "t.parquet", row_group_size=40)
    _pieces(frame, tmp_path / "folder")
    model = get_model("linear")
    whole = tables.from_frame(frame, model, FORMULA)
    for data in ("t.csv", "t.parquet", "folder"):
        got = tables.as_dataset(tmp_path / data, model, FORMULA)
        assert got.feature_names == whole.feature_names, data
        assert "C(school)[T.west]" in got.feature_names
        np.testing.assert_array_equal(got.X, whole.X)
        np.testing.assert_array_equal(got.y, whole.y)
        assert got.attrs["formula_state"] == whole.attrs["formula_state"], data
    plain = frame[["iq", "hours"]].assign(y=frame["score"])
    plain.to_csv(tmp_path / "p.csv", index=False)
    _pieces(plain, tmp_path / "plain")
    a = tables.as_dataset(tmp_path / "p.csv", model)
    b = tables.as_dataset(tmp_path / "plain", model)
    assert b.X.dtype == np.float64 and b.feature_names == ("iq", "hours")
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)


@pytest.mark.parametrize(
    "formula",
    [
        "score ~ iq + C(grade)",  # an integer level first seen after the first piece
        "score ~ I(iq - iq.mean()) + hours",  # a whole-column mean: read whole, not per piece
        "np.log(score - score.min() + 1) ~ iq",  # the same on the left-hand side
        "score ~ iq",  # a null in an unused column whose name is part of one
    ],
)
def test_formulas_read_in_pieces_or_whole_give_the_tables_design(
    frame, tmp_path, monkeypatch, formula
):
    """Review of issue 27: per-piece evaluation gave I(iq - iq.mean()) other values (by up to
    25), C(int) refused a level missing from the first piece, and a null in an unused
    column was refused for Parquet only."""
    monkeypatch.setattr(pieces, "BATCH_ROWS", 50)
    data = frame.assign(grade=np.where(np.arange(len(frame)) < 100, 0, np.arange(len(frame)) % 3))
    data["sc"] = np.where(np.arange(len(frame)) == 3, np.nan, 1.0)
    pq.write_table(pa.Table.from_pandas(data), tmp_path / "t.parquet", row_group_size=40)
    model = get_model("linear")
    whole = tables.from_frame(data, model, formula)
    got = tables.as_dataset(tmp_path / "t.parquet", model, formula)
    assert got.feature_names == whole.feature_names
    np.testing.assert_array_equal(got.X, whole.X)
    np.testing.assert_array_equal(got.y, whole.y)


def test_read_rows_reads_any_range_of_rows(frame, tmp_path, monkeypatch):
    monkeypatch.setattr(pieces, "BATCH_ROWS", 30)
    _pieces(frame, tmp_path / "folder")
    whole = frame[["iq", "score"]].to_numpy()
    for start, stop in ((0, 300), (0, 1), (69, 71), (135, 212), (299, 300), (10, 10)):
        got = pieces.read_rows(tmp_path / "folder", ["iq", "score"], start, stop)
        np.testing.assert_array_equal(got, whole[start:stop])
    with pytest.raises(ValueError, match=r"rows 5:301 are not within the table's 300 rows"):
        pieces.read_rows(tmp_path / "folder", ["iq"], 5, 301)
    with pytest.raises(ValueError, match=r"column .school. is not numeric"):
        pieces.read_rows(tmp_path / "folder", ["school"])


@pytest.mark.parametrize("kind", ["one-type", "mixed", "with-a-boolean"])
def test_read_rows_gives_pandas_values_and_names_the_first_non_finite_one(tmp_path, kind):
    """Both ways of filling the rows (Arrow's row-major tensor for columns of one type;
    column by column for several, a boolean among them): every type cast as pandas casts
    it, and a NaN or an infinity refused by its global row and column, whichever batch it
    is in; of two in one batch (whose row slices threads fill), the first."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=500).astype(np.float32),
            "b": rng.integers(-50, 50, 500).astype(np.int16),
            "c": rng.normal(size=500),
        }
    )
    if kind == "one-type":  # Arrow's tensor
        frame = frame.astype(np.float64)
    if kind == "with-a-boolean":
        frame["d"] = rng.random(500) < 0.5
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "f.pq")
    path, names = tmp_path / "f.pq", list(frame.columns)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pieces, "BATCH_ROWS", 64)
        got = pieces.read_rows(path, names, 3, 480)
        np.testing.assert_array_equal(got, frame.to_numpy(dtype=np.float64)[3:480])
        assert got.dtype == np.float64  # c is float64
        # a second non-finite value later in the same batch, in the slice another thread fills
        cases = ((np.nan, 0, "c", 40), (np.inf, 200, "a", 232), (-np.inf, 470, "c", 490))
        for value, row, column, later in cases:
            bad = frame.copy()
            bad.loc[row, column] = value
            bad.loc[later, "a"] = np.inf
            pq.write_table(pa.table({c: bad[c].to_numpy() for c in bad}), path)  # NaN kept
            shown = re.escape(repr(np.float64(value)))  # the rows are float64
            with pytest.raises(
                ValueError,
                match=rf"non-finite value \({shown}\) at row {row}, "
                rf"column '{column}'",
            ):
                pieces.read_rows(path, names)


def test_read_rows_casts_each_column_on_its_own_when_the_types_differ(tmp_path):
    """uint64 beside int64 (Arrow's common type for the pair wraps 2⁶³ + 2048 round) and
    float16 beside float32 (Arrow refuses that cast): the values as NumPy casts them."""
    big = np.array([2**63 + 2048, 1], dtype=np.uint64)
    table = pa.table({"u": big, "i": np.array([-1, 2], dtype=np.int64)})
    pq.write_table(table, tmp_path / "u.pq")
    got = pieces.read_rows(tmp_path / "u.pq", ["u", "i"])
    np.testing.assert_array_equal(got, [[float(2**63 + 2048), -1.0], [1.0, 2.0]])
    half = np.array([0.5, 1.5], dtype=np.float16)
    pq.write_table(pa.table({"h": half, "f": half.astype(np.float32)}), tmp_path / "h.pq")
    got = pieces.read_rows(tmp_path / "h.pq", ["h", "f"])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[0.5, 0.5], [1.5, 1.5]])


def test_a_float32_table_is_read_as_float32_and_a_missing_value_named_by_row(tmp_path):
    x = np.arange(10, dtype=np.float32) / 3
    pq.write_table(pa.table({"x": x, "y": x * 2}), tmp_path / "f.pq", row_group_size=3)
    got = tables.as_dataset(tmp_path / "f.pq", get_model("linear"))
    assert got.X.dtype == np.float32
    np.testing.assert_array_equal(got.X[:, 0], x)
    holes = pa.table({"x": pa.array([1.0, 2.0, None, 4.0]), "y": [1.0, 2.0, 3.0, 4.0]})
    pq.write_table(holes, tmp_path / "h.pq", row_group_size=2)
    with pytest.raises(ValueError, match=r"missing value at row 2, column 'x'"):
        tables.as_dataset(tmp_path / "h.pq", get_model("linear"))
    twice = pa.Table.from_arrays([pa.array(x), pa.array(x)], names=["x", "x"])
    pq.write_table(twice, tmp_path / "d.pq")
    with pytest.raises(ValueError, match=r"cannot read .*d.pq: .*duplicate field names"):
        tables.as_dataset(tmp_path / "d.pq", get_model("linear"))


def test_pieces_whose_columns_differ_are_refused_by_file_and_column(frame, tmp_path):
    _pieces(frame, tmp_path / "folder")
    bad = pa.Table.from_pandas(frame.iloc[:5].assign(iq=lambda f: f["iq"].astype("float32")))
    pq.write_table(bad, tmp_path / "folder" / "part-99.parquet")
    with pytest.raises(ValueError, match=r"part-99.parquet: column 'iq' is float, not double"):
        tables.as_dataset(tmp_path / "folder", get_model("linear"), FORMULA)
    pq.write_table(
        pa.Table.from_pandas(frame.iloc[:5].drop(columns="hours")),
        tmp_path / "folder" / "part-99.parquet",
    )
    with pytest.raises(ValueError, match=r"part-99.parquet has no column 'hours'"):
        tables.as_dataset(tmp_path / "folder", get_model("linear"), FORMULA)


def test_the_command_refuses_differing_pieces_in_one_line_and_writes_nothing(frame, tmp_path):
    _pieces(frame, tmp_path / "folder")
    pq.write_table(
        pa.Table.from_pandas(frame.iloc[:5].drop(columns="hours")),
        tmp_path / "folder" / "part-99.parquet",
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "freqbayes.cli", "run", "linear", "--method", "map"),
            *("--data", str(tmp_path / "folder"), "--formula", FORMULA, "--out", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "part-99.parquet has no column 'hours'" in lines[0], lines
    assert not out.exists()


def test_the_hash_of_a_frame_is_stable_and_changes_with_a_value(frame):
    a = pieces.frame_sha256(frame)
    assert a == pieces.frame_sha256(frame.copy())
    assert a == tables.from_frame(frame, get_model("linear"), FORMULA).attrs["table_sha256"]
    changed = frame.copy()
    changed.loc[123, "iq"] = np.nextafter(changed.loc[123, "iq"], np.inf)
    assert pieces.frame_sha256(changed) != a
    renamed = frame.copy()
    renamed.loc[7, "school"] = "south" if frame.loc[7, "school"] == "north" else "north"
    assert pieces.frame_sha256(renamed) != a
    assert pieces.frame_sha256(frame.rename(columns={"iq": "IQ"})) != a


def test_the_hash_of_a_file_is_its_bytes_sha256_streamed(frame, tmp_path, monkeypatch):
    monkeypatch.setattr(pieces, "HASH_CHUNK", 1000)
    frame.to_parquet(tmp_path / "t.parquet")
    raw = (tmp_path / "t.parquet").read_bytes()
    assert pieces.file_sha256(tmp_path / "t.parquet") == hashlib.sha256(raw).hexdigest()
    _pieces(frame, tmp_path / "folder")
    first = pieces.file_sha256(tmp_path / "folder")
    (tmp_path / "folder" / "part-01.parquet").rename(tmp_path / "folder" / "part-05.parquet")
    assert pieces.file_sha256(tmp_path / "folder") != first


def test_the_fingerprint_is_the_float64_bytes_hashed_in_blocks(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1001, 7)).astype(np.float32)
    y = rng.normal(size=1001)
    data = Dataset("d", y, X, tuple("abcdefg"))
    h = hashlib.sha256()
    for a in (X, y):
        arr = np.ascontiguousarray(a, dtype=np.float64)
        h.update(str(arr.shape).encode())
        h.update(arr.tobytes())
    monkeypatch.setattr(pieces, "HASH_CHUNK", 500)  # many blocks
    assert fingerprint(data) == h.hexdigest()


def test_data_read_from_a_file_are_fingerprinted_by_the_file_not_their_values(
    frame, tmp_path, monkeypatch
):
    """Whole or in shares, a file's data get one fingerprint: the file's SHA-256, the
    formula and its state, the rows and features; no pass over the values (issue 27)."""
    from freqbayes.models import data as data_module
    from freqbayes.models.dataset import Share

    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "t.parquet")
    model, formula = get_model("linear"), "score ~ iq + C(school)"
    whole = tables.as_dataset(tmp_path / "t.parquet", model, formula)
    monkeypatch.setattr(data_module, "array_sha256", None)  # a pass over the values fails
    first = fingerprint(whole)
    share = tables.read_share(tmp_path / "t.parquet", model, formula, 0, 150, 160)
    share = dataclasses.replace(share, share=Share(0, 150, 300, 320, 0, 160))
    assert fingerprint(share) == first
    frame.loc[7, "iq"] += 1.0
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "t.parquet")
    assert fingerprint(tables.as_dataset(tmp_path / "t.parquet", model, formula)) != first
    assert fingerprint(tables.as_dataset(tmp_path / "t.parquet", model, "score ~ iq")) != first


PEAK = """
import sys
from freqbayes.models import pieces
import pyarrow.dataset, pyarrow.parquet
COLUMNS = [f"x{j}" for j in range(WIDTH)]

def status(key):
    line = next(l for l in open("/proc/self/status") if l.startswith(key + ":"))
    return int(line.split()[1]) * 1024

pieces.read_rows(sys.argv[1], COLUMNS, 0, 10)  # pyarrow's set-up (thread pools): baseline
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak (VmHWM) from here on
baseline = status("VmRSS")
X = pieces.read_rows(sys.argv[1], COLUMNS)
assert X.shape == (ROWS, WIDTH) and X.dtype.name == "float32"
print(baseline, status("VmHWM"))
"""


def test_reading_in_pieces_keeps_peak_memory_near_the_designs_size(tmp_path):
    rows, width, group = 2 * pieces.BATCH_ROWS, 50, pieces.BATCH_ROWS  # 52 MB of float32
    rng = np.random.default_rng(0)
    writer = None
    for _ in range(0, rows, group):
        block = rng.standard_normal((group, width), dtype=np.float32)
        part = pa.table({f"x{j}": block[:, j] for j in range(width)})
        writer = writer or pq.ParquetWriter(tmp_path / "big.parquet", part.schema)
        writer.write_table(part)
    writer.close()
    script = PEAK.replace("WIDTH", str(width)).replace("ROWS", str(rows))

    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "big.parquet")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    baseline, read = map(int, done.stdout.split())
    design, batch = rows * width * 4, pieces.BATCH_ROWS * width * 4
    print(json.dumps({"baseline": baseline, "read": read, "design": design, "batch": batch}))
    # measured: the design and 3.4 batches (pyarrow decodes a row group beside its batch).
    # 2.6 batches before freqbayes set MIMALLOC_PURGE_DELAY=0: the baseline then still held
    # ~70 MB of the warm-up read's freed pages, which the big read reused (its absolute
    # peak was 299-310 MiB against 268-269 MiB now). Holding the whole table would add 2.
    assert read - baseline <= design + 4 * batch


def test_blocked_column_statistics_are_the_unblocked_ones(monkeypatch):
    """Means and scales of a large table in row blocks (linear, no float64 copy, no sort)."""
    from freqbayes.models.probabilistic import scaling

    monkeypatch.setattr(scaling, "BLOCK_VALUES", 1000)  # 200 rows a block

    rng = np.random.default_rng(0)
    a = rng.normal(1e4, 3.0, (40_000, 5)).astype(np.float32)
    a[:, 1] = rng.integers(0, 2, len(a)) * 3.0 + 1.0  # two values: their range
    a[:, 2] = 5.0  # constant: 1
    a[:, 3] = rng.integers(0, 3, len(a))  # three values: the sd
    mean, scale = scaling.blocked_column_stats(a)
    full = a.astype(np.float64)
    np.testing.assert_allclose(mean, full.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(scale, scaling.column_scale(full), rtol=1e-12)
    assert scale[1] == 3.0 and scale[2] == 1.0
    a *= 100  # changed in place (review: a cache by identity kept the old scales)
    again = scaling.blocked_column_stats(a)[1]
    np.testing.assert_allclose(again, np.where(scale == 1.0, 1.0, 100 * scale), rtol=1e-5)


def test_preparing_a_fit_reads_a_big_tables_column_statistics_once(monkeypatch):
    """Default priors, the horseshoe's completion and the fit's coordinates all read the
    scaling: one pass over a big table (not three), and none kept after the fit."""
    from freqbayes.inference.probabilistic.problem import prepare
    from freqbayes.models.dataset import Dataset
    from freqbayes.models.probabilistic import scaling

    monkeypatch.setattr(scaling, "BLOCKED", 1000)  # 400 × 5 values count as big
    calls = []
    blocked = scaling.blocked_column_stats
    monkeypatch.setattr(scaling, "blocked_column_stats", lambda a: calls.append(1) or blocked(a))
    rng = np.random.default_rng(0)
    X = rng.normal(50.0, 10.0, (400, 5))
    y = (rng.random(400) < 0.5).astype(float)
    data = Dataset("big", y, X, tuple(f"x{j}" for j in range(5)))
    first = prepare("logistic", data)
    assert len(calls) == 1
    X *= 100  # changed in place between two fits: the next one sees it
    again = prepare("logistic", data)
    assert len(calls) == 2
    np.testing.assert_allclose(
        np.asarray(again.scaling.x_scale), 100 * np.asarray(first.scaling.x_scale), rtol=1e-5
    )


def test_a_parquet_tables_rows_are_padded_in_their_own_buffer(tmp_path):
    """The reader leaves room for the bucket's padding: the padded design the fit gets is
    the table's own buffer (no second copy of X), the rows the table's, the padding row 0
    (as for any array)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from freqbayes.inference.buckets import bucket_size
    from freqbayes.inference.probabilistic.rows import padded_arguments
    from freqbayes.models.registry import get_model
    from freqbayes.models.tables import as_dataset

    rng = np.random.default_rng(0)
    n = 1000  # bucket 1024
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = (rng.random(n) < 0.5).astype(np.float32)
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"y": y, **{f"x{j}": X[:, j] for j in range(3)}}), path)
    model = get_model("logistic")
    data = as_dataset(path, model)
    padded = padded_arguments(model, model.data_arguments(data))
    assert padded["X"].shape == (bucket_size(n), 3)
    assert np.shares_memory(padded["X"], data.X)
    np.testing.assert_array_equal(padded["X"][:n], X)
    np.testing.assert_array_equal(padded["X"][n:], np.broadcast_to(X[0], (24, 3)))
    mine = rng.normal(size=(n, 3)).astype(np.float32)  # an array of the caller's: copied
    assert not np.shares_memory(padded_arguments(model, {"X": mine, "y": y})["X"], mine)


def test_the_command_reads_a_big_tables_column_statistics_once(tmp_path, monkeypatch):
    """`freqbayes run` checks the priors on the data, then fits: one pass over a big table
    for its column statistics in all (three before: the priors' check read them twice)."""
    from freqbayes.cli import main
    from freqbayes.models.probabilistic import scaling

    monkeypatch.setattr(scaling, "BLOCKED", 1000)  # 400 × 3 values count as big
    calls = []
    blocked = scaling.blocked_column_stats
    monkeypatch.setattr(scaling, "blocked_column_stats", lambda a: calls.append(1) or blocked(a))
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(50.0, 10.0, (400, 3)), columns=["x1", "x2", "x3"])
    frame["y"] = (rng.random(400) < 0.5).astype(float)
    frame.to_parquet(tmp_path / "t.parquet")
    argv = ["run", "logistic", "--data", str(tmp_path / "t.parquet"), "--method", "map"]
    assert main([*argv, "--pointwise", "none", "--out", str(tmp_path / "out")]) == 0
    assert len(calls) == 1


def test_pad_rows_copies_a_big_array_in_threads_exactly(monkeypatch, thread_pools):
    """Over 3 threads' slices of rows (as for a big array): every row once, the pad zero."""
    from freqbayes.inference import buckets
    from freqbayes.models import threads

    monkeypatch.setattr(buckets, "THREADED_COPY_BYTES", 0)
    monkeypatch.setattr(threads, "usable_cores", lambda: 3)
    a = np.random.default_rng(3).standard_normal((1001, 7)).astype(np.float32)
    out = buckets.pad_rows(a, 1024)
    assert thread_pools == [3]
    assert out.shape == (1024, 7) and not np.shares_memory(out, a)
    np.testing.assert_array_equal(out[:1001], a)
    assert not out[1001:].any()


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "200000 100000\n"}, 2),
        ({"cpu.max": "150000 100000\n"}, 2),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),
    ],
)
def test_a_containers_cpu_quota_caps_the_threads(tmp_path, monkeypatch, files, quota):
    """cgroup v2 and v1 quotas in whole cores, rounded up; none set or unreadable: None."""
    from freqbayes.models import threads

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert threads.cpu_quota(str(tmp_path)) == quota
    monkeypatch.setattr(threads, "CGROUP", str(tmp_path))
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert threads.usable_cores() == (64 if quota is None else quota)

"""The report's step-through demos in headless Chromium: each control does what it says.

Every page is opened from a file; it must log no console error and request nothing
but file: and data: URLs. The state is read from ``window.demoState``. Skipped where
Chromium is absent (as tests/test_report_browser.py), except under CI.
"""

from __future__ import annotations

import itertools
import math
import os
import shutil

import pytest

from freqbayes.demos import DEMOS, write_demo, write_demos
from freqbayes.i18n import _, language

from .conftest import font_misses

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_pages_say_their_language_and_carry_the_translated_text(tmp_path):
    with language("ja"):
        title = _("Coverage: confidence against credible intervals (§5.6)")
    assert title != "Coverage: confidence against credible intervals (§5.6)"
    page = (tmp_path / write_demo(tmp_path, "coverage", lang="ja")).read_text(encoding="utf-8")
    assert page.startswith('<!doctype html>\n<html lang="ja">')
    assert f"<title>{title}</title>" in page
    assert "Draw another data set" not in page  # every visible text went through _()
    assert not font_misses(page)  # it carries its Japanese font (the reader may have none)
    english = (tmp_path / write_demo(tmp_path, "coverage", lang="en")).read_text()
    assert '<html lang="en">' in english and "Draw another data set" in english
    code = english.replace('"http://www.w3.org/2000/svg"', "")  # a name, not a fetch
    for tag in ("<link", "src=", "http://", "https://", "fetch(", "XMLHttpRequest", "import("):
        assert tag not in code, tag  # nothing to fetch


def test_sgd_paths_reach_scikit_learns_mle_and_touch_as_many_examples_each():
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from freqbayes.lessons import sgd_paths
    from freqbayes.models import data as D

    p = sgd_paths(0, n=200, batch_sizes=(10, 200), rates=(0.5, 2.0), epochs=5)
    d = D.logistic_problem(0, n=200, d=1)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(d.X, d.y)
    np.testing.assert_allclose(p.mle, [ref.coef_[0, 0], ref.intercept_[0]], atol=1e-4)
    assert p.optimum <= p.grid_cost.min() + 1e-6  # no grid point beats the MLE
    for (m, eta), touched in p.touched.items():
        assert touched[0] == 0 and touched[-1] == 5 * 200  # every path: 5 epochs' worth
        assert np.all(touched % m == 0) and len(p.path[m, eta]) == len(p.cost[m, eta])
        np.testing.assert_allclose(p.path[m, eta][0], (-3.0, 3.0))
    # the full batch at ε = 2 has gone further than at ε = 0.5 after the same 5 steps
    assert p.cost[200, 2.0][-1] < p.cost[200, 0.5][-1]


def test_neighbour_distances_give_the_curse_tables_median_ratio():
    import numpy as np

    from freqbayes.lessons import curse_of_dimensionality, neighbour_distances

    dims = (2, 10)
    dist = neighbour_distances(0, dims, n=1000, queries=200)
    table = curse_of_dimensionality(0, dims)
    ratio = [np.median(far / near) for near, far in dist.values()]
    np.testing.assert_allclose(ratio, table["median_ratio"], rtol=1e-6)
    assert all(np.all(near < far) for near, far in dist.values())


if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        pytest.fail("CI: chromium is missing (make test installs Debian's chromium)")
    pytest.skip("no chromium on this machine", allow_module_level=True)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("demos")
    return {p.stem: p for p in write_demos(out, lang="en")}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Page:
    """A demo page, with what it logged and requested."""

    def __init__(self, browser, path):
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def state(self, expr: str = "window.demoState"):
        return self.page.evaluate(f"() => JSON.parse(JSON.stringify({expr}))")

    def click(self, selector: str) -> None:
        self.page.click(selector)

    def slide(self, selector: str, value: int) -> None:
        self.page.eval_on_selector(
            selector,
            "(e, v) => { e.value = String(v); e.dispatchEvent(new Event('input')); }",
            value,
        )

    def close(self) -> None:
        self.page.close()
        assert not self.errors, self.errors
        foreign = [u for u in self.requests if not u.startswith(("file:", "data:"))]
        assert not foreign, foreign


@pytest.fixture
def open_page(browser, pages):
    opened = []

    def open_(name: str) -> Page:
        opened.append(Page(browser, pages[name]))
        return opened[-1]

    yield open_
    for p in opened:
        p.close()


def test_every_control_of_every_page_runs_without_error_or_request(open_page):
    for name in DEMOS:
        p = open_page(name)
        assert p.state() is not None, name
        for button in p.page.query_selector_all("button"):
            if button.is_enabled():
                button.click()
        for slider in p.page.query_selector_all("input[type=range]"):
            slider.evaluate("e => { e.value = e.max; e.dispatchEvent(new Event('input')); }")
        for select in p.page.query_selector_all("select"):
            values = select.evaluate("e => [...e.options].map(o => o.value)")
            select.select_option(values[-1])
        assert p.page.evaluate("() => document.documentElement.lang") == "en"


def _inertia(history, step):
    return [h["inertia"] for h in history if h["step"] == step]


def test_kmeans_plus_plus_seeds_on_points_and_no_step_raises_the_inertia(open_page):
    p = open_page("kmeans")
    s = p.state()
    k, points = s["k"], s["points"]
    assert s["seeding"] == "plusplus" and len(points) == 150 and s["centres"] == []
    p.click("#next")
    s = p.state()
    assert s["centres"][0] in points  # the first centre is a data point
    probs = s["probs"]  # D(x)²/ΣD², shown as the next centre is drawn
    assert math.isclose(sum(probs), 1.0, rel_tol=1e-9)
    assert probs[points.index(s["centres"][0])] == 0.0
    for _step in range(k - 1):
        p.click("#next")
    s = p.state()
    assert len(s["centres"]) == k and all(c in points for c in s["centres"])
    assert p.page.is_disabled("#next") and p.page.is_disabled("#update")
    before = s["inertia"]
    for _step in range(8):
        p.click("#assign")
        after_assign = p.state()["inertia"]
        p.click("#update")
        after_update = p.state()["inertia"]
        assert after_assign <= before * (1 + 1e-12)  # an assign step never raises it
        assert after_update <= after_assign * (1 + 1e-12)  # nor does an update step
        before = after_update
    history = p.state()["history"]
    assert len(_inertia(history, "assign")) == 8 and len(_inertia(history, "update")) == 8
    p.click("#restart")
    s = p.state()
    assert s["centres"] == [] and s["history"] == [] and s["inertia"] is None
    assert s["points"] == points  # restart keeps the data


def test_kmeans_random_start_draw_and_click_to_add(open_page):
    p = open_page("kmeans")
    p.page.select_option("#seeding", "random")
    p.page.select_option("#k", "3")
    for _step in range(3):
        p.click("#next")
    s = p.state()
    assert s["seeding"] == "random" and s["k"] == 3 and s["probs"] is None
    assert (
        all(c in s["points"] for c in s["centres"]) and len({tuple(c) for c in s["centres"]}) == 3
    )
    p.click("#draw")
    drawn = p.state()
    assert drawn["points"] != s["points"] and drawn["centres"] == []
    p.click("#clear")
    assert p.state()["points"] == []
    p.page.click("#plot", position={"x": 300, "y": 250})
    p.page.click("#plot", position={"x": 200, "y": 350})
    assert len(p.state()["points"]) == 2


def test_prior_slider_moves_the_map_toward_the_prior_mean_and_narrows_the_band(open_page):
    p = open_page("prior")
    s = p.state()
    assert s["map"] == s["mle"] and s["lam"] == 0  # flat prior: the MAP is the MLE
    maps, bands, sds, lams = [], [], [], []
    for v in range(0, 101, 10):
        p.slide("#strength", v)
        s = p.state()
        maps.append(s["map"])
        bands.append(s["band"])
        sds.append(s["sd"])
        lams.append(s["lam"])
    assert all(0 < b < a for a, b in itertools.pairwise(maps))  # toward 0, the prior mean
    assert maps[-1] < 0.05 * maps[0]
    assert all(b < a for a, b in itertools.pairwise(bands))
    assert all(b < a for a, b in itertools.pairwise(sds))
    assert all(b > a for a, b in itertools.pairwise(lams))
    # the page's closed form against the library's (linear.ridge, posterior_known_sigma)
    for check in p.state("DEMO.data.checks"):
        got = p.page.evaluate("lam => window.demoState.posterior(lam)", check["lam"])
        assert math.isclose(got["map"], check["map"], rel_tol=1e-9), check
        if check["sd"] is not None:
            assert math.isclose(got["sd"], check["sd"], rel_tol=1e-9), check


def test_coverage_counts_one_data_set_per_click_in_both_modes(open_page):
    p = open_page("coverage")
    for mode in ("fixed", "drawn"):
        p.page.select_option("#mode", mode)
        assert p.state()["total"] == 0  # a new mode starts a new count
        for i in range(1, 6):
            p.click("#one")
            s = p.state()
            assert s["mode"] == mode and s["total"] == i and len(s["draws"]) == i
            for key in ("ci", "cred"):
                assert 0 <= s["hits"][key] <= i
                assert 0.0 <= s["coverage"][key] <= 1.0
                assert s["coverage"][key] == s["hits"][key] / i
        p.click("#many")
        assert p.state()["total"] == 25
        thetas = {d["theta"] for d in p.state()["draws"]}
        assert (len(thetas) == 1) == (mode == "fixed")  # fixed θ, or θ drawn each time
    p.click("#reset")
    assert p.state()["total"] == 0
    assert p.page.locator(".interval").count() == 0


def test_sgd_sliders_change_the_drawn_path(open_page):
    p = open_page("sgd")
    path = p.page.get_attribute("#path", "points")
    s = p.state()
    p.slide("#batch", 0)
    assert p.state()["m"] == 1 and p.page.get_attribute("#path", "points") != path
    path = p.page.get_attribute("#path", "points")
    p.slide("#rate", 0)
    assert p.state()["eta"] != s["eta"] and p.page.get_attribute("#path", "points") != path
    p.slide("#batch", 3)  # the full batch: one step per epoch
    full = p.state()
    assert full["m"] == 200 and full["points"] == 11


def test_curse_slider_changes_the_histogram(open_page):
    p = open_page("curse")
    seen = []
    for i in range(len(p.state("DEMO.data.dims"))):
        p.slide("#dimension", i)
        s = p.state()
        assert sum(s["nearest"]) == sum(s["farthest"]) == 200
        seen.append((s["d"], s["nearest"], s["farthest"], s["ratio"]))
    assert [row[0] for row in seen] == sorted(row[0] for row in seen)
    assert all(a[1:3] != b[1:3] for a, b in itertools.pairwise(seen))
    assert seen[-1][3] < 1.2 < seen[1][3]  # farthest/nearest concentrates toward 1


def test_a_japanese_page_runs_and_fills_its_placeholders(browser, tmp_path):
    with language("ja"):
        running = _("{name}: {hits} of {total} cover θ, coverage {rate}")
        name = _("95% confidence interval")
    p = Page(browser, tmp_path / write_demo(tmp_path, "coverage", lang="ja"))
    p.click("#one")
    p.click("#one")
    assert p.page.evaluate("() => document.documentElement.lang") == "ja"
    shown = p.page.text_content("#count-ci")
    hits = p.state()["hits"]["ci"]
    assert shown == running.format(name=name, hits=hits, total=2, rate=f"{hits / 2:.3g}")
    assert f"2 回中 {hits} 回" in shown
    p.close()


def test_the_report_shows_each_demo_beside_its_section(tmp_path):
    from freqbayes.showcase.report import Section, render

    rel = write_demo(tmp_path, "coverage", lang="en")
    section = Section("two-guarantees", "Two guarantees", "text", links=[rel, "tables/x.csv"])
    _md, page = render(tmp_path, [section], title="t", intro="i")
    html = page.read_text(encoding="utf-8")
    assert html.count("<iframe") == 1  # the demo, not the other link
    assert f"<iframe class='demo' src='{rel}'" in html
    assert html.index("id='two-guarantees'") < html.index("<iframe")

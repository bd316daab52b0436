"""The fit report opens in a real browser: every image loads and nothing logs an error.

Headless Chromium (Debian's ``chromium``; ``make test`` installs it) driven by
Playwright. Skipped where Chromium is absent, except under CI, where it must be there.
"""

from __future__ import annotations

import os
import shutil

import pytest

from freqbayes import data, i18n, saved
from freqbayes.inference import fit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        pytest.fail("CI: chromium is missing (make test installs Debian's chromium)")
    pytest.skip("no chromium on this machine", allow_module_level=True)


@pytest.fixture(scope="module")
def trees():
    iris = data.iris_setosa()
    return {
        "laplace": fit("gaussian", "laplace", iris, seed=0, num_chains=2, num_samples=300),
        "svi": fit("gaussian", "svi", iris, seed=0, num_chains=2, num_samples=300),
        "map": fit("gaussian", "map", iris),
    }


@pytest.fixture(scope="module", params=["en", "ja"])
def page_file(request, trees, tmp_path_factory):
    with i18n.language(request.param):
        return saved.report(trees, tmp_path_factory.mktemp(f"report-{request.param}"))


def test_report_loads_every_image_without_errors(page_file, tmp_path):
    from playwright.sync_api import sync_playwright

    pngs = sorted(p.name for p in page_file.parent.glob("*.png"))
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        # decode() rejects an image that does not decode in full (a truncated PNG still
        # reports its size from the header)
        images = page.evaluate(
            """async () => Promise.all([...document.images].map(async e => {
                let ok = true;
                try { await e.decode(); } catch (err) { ok = false; }
                return [e.alt, ok && e.complete, e.naturalWidth, e.naturalHeight];
            }))"""
        )
        headings = page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
        # Japanese: drawn in the page's own font, even where the system has none
        fonts = page.evaluate(
            """async () => { await document.fonts.ready;
                return [...document.fonts].map(f => f.family + ' ' + f.status); }"""
        )
        cells = page.eval_on_selector_all("td", "els => els.length")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert not errors, errors
    assert sorted(alt for alt, *_ in images) == pngs  # every figure written is on the page
    assert all(done and w > 100 and h > 100 for _, done, w, h in images), images
    ja = "/report-ja" in page_file.as_posix()
    assert headings == ["laplace", "svi", "map", "並べて比較" if ja else "Side by side"]
    assert fonts == (["freqbayes-ja loaded"] if ja else [])
    assert cells > 20  # the summary tables and the PSIS-LOO comparison
    assert (tmp_path / "report.png").stat().st_size > 50_000

"""A trainer's pages in a real browser, in Khmer: the cohort's tabs with their charts, the cascade, and the
report printed to an A4 PDF. Screenshots and the PDF go to artifacts/."""

from pathlib import Path

import pytest

from engine.app.i18n import t
from tests.browser.conftest import ARTIFACTS, serving_demo, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.trainer]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving_demo(REPO, tmp_path_factory.mktemp("trainer")) as (url, _):
        yield url


def test_trainer_pages_in_khmer(chromium, served):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(served)
        settle(page)
        page.get_by_label(t("km", "sign_in.login")).fill("demo.trainer")
        page.get_by_label(t("km", "sign_in.password")).fill("sala-demo-2026")
        page.get_by_label(t("km", "sign_in.password")).press("Enter")
        settle(page)
        page.get_by_role("heading", name=t("km", "cohorts.title")).wait_for(timeout=20_000)
        page.get_by_role("link", name=t("km", "nav.cohort"), exact=True).click()
        settle(page)
        for tab in ("roster", "progress", "completion", "prepost", "items"):
            page.get_by_role("tab", name=t("km", f"cohort.tab_{tab}")).click()
            settle(page)
            shot(page, f"trainer-{tab}-km")
        assert page.locator(".js-plotly-plot").count() >= 3  # heatmap, completion, funnel drawn
        page.get_by_role("link", name=t("km", "nav.cascade"), exact=True).click()
        settle(page)
        page.locator(".js-plotly-plot").first.wait_for()
        shot(page, "trainer-cascade-km")
        page.get_by_role("link", name=t("km", "nav.report"), exact=True).click()
        settle(page)
        page.get_by_text(t("km", "report.prepost")).wait_for()
        page.emulate_media(media="print")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pdf = ARTIFACTS / "cohort-report-km.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
        assert pdf.stat().st_size > 20_000 and pdf.read_bytes().startswith(b"%PDF")
    except Exception:
        shot(page, "FAILED-trainer")
        raise
    finally:
        context.close()

"""The foundation's end-to-end path in a real browser: Khmer sign-in page, sign in, the learner's course
map, at desktop width and at 360 px; the Khmer web font is the one Sala serves."""

import pytest

from tests.browser.conftest import settle, shot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width,height", [(1280, 900), (360, 740)])
def test_learner_signs_in_and_sees_the_course_map_in_khmer(chromium, demo_server, width, height):
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(demo_server)
    settle(page)
    page.get_by_text("ចូលប្រើសាលា").first.wait_for()
    page.get_by_label("ឈ្មោះអ្នកប្រើ ឬលេខទូរស័ព្ទ").fill("demo.learner")
    page.get_by_label("ពាក្យសម្ងាត់").fill("sala-demo-2026")
    page.get_by_label("ពាក្យសម្ងាត់").press("Enter")
    settle(page)
    page.get_by_role("heading", name="វគ្គសិក្សារបស់ខ្ញុំ").wait_for(timeout=20_000)
    settle(page)
    # The Khmer text is drawn with the font Sala serves, not whatever the machine happens to have.
    assert page.evaluate("document.fonts.check('16px KhmerSans', 'ក')")
    assert page.evaluate(
        "[...document.fonts].some(f => f.family.replace(/\"/g, '') === 'KhmerSans' && f.status === 'loaded')")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the {width} px screen"
    shot(page, f"course-map-km-{width}")
    context.close()

"""Classroom mode in a real browser: the facilitator's screen and three participants' phones (separate
browser contexts, 360 px) on one server. Participants join with the code, the facilitator opens the
pre-test, the phones answer, and the facilitator's live count reaches 3."""

from pathlib import Path

import pytest
from sqlalchemy import select

from engine.app.i18n import t
from engine.content import load
from engine.demo import DEMO_PASSWORD
from engine.store.db import make_engine, session_factory
from engine.store.models import Cohort, Enrolment, User
from tests.browser.conftest import serving_demo, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.classroom]
REPO = Path(__file__).resolve().parents[2]
MODULE = load(REPO)["km"].modules[0]


def sign_in(page, url, username):
    page.goto(url)
    settle(page)
    page.get_by_label(t("km", "sign_in.login")).fill(username)
    page.get_by_label(t("km", "sign_in.password")).fill(DEMO_PASSWORD)
    page.get_by_label(t("km", "sign_in.password")).press("Enter")
    settle(page)


def test_facilitator_and_three_phones(chromium, tmp_path):
    with serving_demo(REPO, tmp_path) as (url, env):
        factory = session_factory(make_engine(env["SALA_DATABASE_URL"]))
        with factory() as s:
            kampot = s.scalar(select(Cohort.id).where(Cohort.name == "Kampong Cham 2026"))
            phones_users = s.scalars(select(User.username).join(Enrolment, Enrolment.user_id == User.id)
                                     .where(Enrolment.cohort_id == kampot, User.language == "km")
                                     .order_by(User.username).limit(3)).all()
        desk = chromium.new_context(viewport={"width": 1280, "height": 900})
        room = desk.new_page()
        phones = []
        try:
            sign_in(room, url, "demo.facilitator")
            page_title = room.get_by_role("heading", name=t("km", "classroom.title"))
            page_title.wait_for(timeout=20_000)
            room.get_by_text(t("km", "session.new")).click()
            room.get_by_label(t("km", "session.venue")).fill("សាលប្រជុំរដ្ឋបាលខេត្តកំពង់ចាម")
            room.get_by_role("button", name=t("km", "session.open")).click()
            settle(room)
            room.get_by_role("heading", name=MODULE.title).wait_for(timeout=20_000)
            code = room.locator("h1").filter(has_text=__import__("re").compile(r"^[A-Z0-9]{5}$")).first.inner_text()
            shot(room, "classroom-join-km")
            for username in phones_users:
                context = chromium.new_context(viewport={"width": 360, "height": 740})
                phone = context.new_page()
                sign_in(phone, f"{url}/?code={code}", username)
                phone.get_by_role("button", name=t("km", "join.submit")).wait_for(timeout=20_000)
                phone.get_by_role("button", name=t("km", "join.submit")).click()
                settle(phone)
                phones.append((context, phone))
            room.get_by_role("tab", name=t("km", "session.tab_test")).click()
            settle(room)
            room.get_by_role("button", name=t("km", "session.open_test")).click()
            settle(room)
            for _, phone in phones:
                phone.get_by_text(t("km", "study.pre_title"), exact=True).wait_for(timeout=20_000)
                form = phone.locator('[data-testid="stForm"]').first
                for item in MODULE.pre_test:
                    block = form.locator('[data-testid="stVerticalBlock"]').filter(has_text=item.stem[:30]).last
                    block.locator("[role=radiogroup] label").first.click()
                form.get_by_role("button", name=t("km", "study.submit_test")).click()
                settle(phone)
                phone.get_by_text(t("km", "join.sent")).wait_for(timeout=20_000)
            shot(phones[0][1], "classroom-phone-km-360")
            room.get_by_text("៣ / ៣", exact=True).first.wait_for(timeout=20_000)  # live count, every 2 s
            shot(room, "classroom-live-test-km")
        except Exception:
            shot(room, "FAILED-classroom-room")
            for n, (_, phone) in enumerate(phones):
                shot(phone, f"FAILED-classroom-phone-{n}")
            raise
        finally:
            for context, _ in phones:
                context.close()
            desk.close()

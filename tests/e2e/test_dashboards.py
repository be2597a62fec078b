"""Each role's dashboard in Chromium, against the demo organisation as `seed-demo` makes it
(with its year of history): a supervisor and a member of staff, then a leader and the DSL."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from playwright.sync_api import expect
from support import TEST_CONFIG

from webapp import create_app
from webapp.cli import seed_concerns
from webapp.db import connect, transaction
from webapp.oversight import demo

pytestmark = pytest.mark.e2e


@pytest.fixture
def app(tmp_path, seeded_data):
    """This module's app: the demo organisation with what `seed-demo` adds to it."""
    folder = tmp_path / "data"
    shutil.copytree(seeded_data, folder)
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(folder)})
    db = connect(app.config["DATABASE"])
    ids = {r["email"]: r["id"] for r in db.query("SELECT id, email FROM users")}
    with transaction(db):
        seed_concerns(db, app.extensions["vault"], ids, dt.date.today())
        demo.add_history(db, app.extensions["vault"], app.extensions["seal_key"])
    db.close()
    return app


def test_a_supervisor_follows_a_count_to_its_records_and_staff_see_their_own(tablet, another):
    page = tablet.page
    tablet.login("sam.supervisor@demo.test")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="My supervisees")).to_be_visible()
    bea = page.locator("#team-table tr", has_text="Bea Staff")
    expect(bea).to_contain_text("probation")
    expect(bea).to_contain_text("due soon")
    alex = page.locator("#team-table tr", has_text="Alex Staff")
    expect(alex.locator('[data-count="overdue-actions"]')).to_have_text("1")
    alex.locator('[data-count="unacknowledged"]').click()
    expect(page).to_have_url(re.compile(r"/records\?.*unacknowledged=1"))
    expect(page.locator("#records-table tbody tr")).to_have_count(1)
    expect(page.locator("#records-table tbody tr")).to_contain_text("not yet acknowledged")
    expect(page.get_by_role("link", name="Training needs")).to_have_count(0)

    staff = another()
    staff.login("alex.staff@demo.test")
    s = staff.page
    s.goto("/dashboard")
    expect(s.get_by_role("heading", name="My supervision")).to_be_visible()
    expect(s.locator("#own-supervisor")).to_have_text("Sam Supervisor")
    expect(s.get_by_role("heading", name="The organisation")).to_have_count(0)
    expect(s.get_by_role("heading", name="My supervisees")).to_have_count(0)


def test_leaders_and_the_dsl_see_the_organisation_with_charts(tablet, another):
    page = tablet.page
    tablet.login("leader@demo.test")
    page.goto("/dashboard")
    expect(page.locator("#compliance-now")).to_contain_text("86% in date")
    expect(page.locator("#overdue-table")).to_contain_text("Cal Staff")
    chart = page.get_by_role("group", name="Sessions held per month")  # its bars are links
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 200
    expect(page.locator("#held-table tbody tr")).to_have_count(12)
    expect(page.get_by_role("img", name="Compliance at each month end")).to_be_visible()
    # A bar of the chart is a link to that month's signed records.
    page.locator("#chart-held a").last.click()
    expect(page).to_have_url(re.compile(r"/records\?.*status=signed"))
    page.go_back()
    page.get_by_role("link", name="Training needs").first.click()
    expect(page.locator("#training-needs")).to_contain_text("Makaton level 2")

    dsl = another()
    dsl.login("dsl@demo.test")
    d = dsl.page
    d.goto("/dashboard")
    expect(d.get_by_role("heading", name="The organisation")).to_be_visible()
    expect(d.locator("#team-table")).to_contain_text("Kim Supervisor")
    d.locator('[data-count="concerns-new"]').click()
    expect(d.locator("#concerns tbody tr")).to_have_count(1)

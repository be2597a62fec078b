"""Running the organisation in Chromium: the office imports a staff list (preview, then
confirm), the newcomer sets their password with the invite link, and the office pairs them
and changes their supervisor."""

from __future__ import annotations

import re

import pytest
from admin_helper import NEW_PASSWORD, OFFICE, add_office_admin
from playwright.sync_api import expect

from webapp.people import accounts

pytestmark = pytest.mark.e2e

STAFF_LIST = ("name,email,roles,employment_type,start_date,probation_end,supervisor_email\n"
              "Nell Newcomer,nell@demo.test,staff,temporary,2026-09-01,2027-03-01,sam.supervisor@demo.test\n"
              "Broken Row,not-an-email,staff,permanent,2026-09-01,,\n")


def test_the_office_imports_pairs_and_changes_a_supervisor(tablet, another, db, vault, tmp_path):
    add_office_admin(db, vault)
    csv_file = tmp_path / "staff.csv"
    csv_file.write_text(STAFF_LIST)
    tablet.login(OFFICE)
    page = tablet.page
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name=re.compile("^Import a staff list")).click()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check the file").click()

    # The preview: one row ready, one with its error; nothing imported yet.
    expect(page.locator("#import-summary")).to_contain_text("1 of 2 rows are ready to import")
    expect(page.locator("#import-rows tr.loud")).to_contain_text("That is not an email address.")
    assert accounts.find_by_email(db, "nell@demo.test") is None
    page.get_by_role("button", name="Import 1 person").click()
    link = page.locator(".invite-link")
    expect(link).to_have_count(1)
    invite = link.inner_text()

    # Nell sets her password with the link, in her own browser, and logs in.
    nell = another()
    nell.page.goto(invite)
    nell.page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    nell.page.get_by_label("New password again").fill(NEW_PASSWORD)
    nell.page.get_by_role("button", name="Set my password").click()
    nell.login("nell@demo.test", NEW_PASSWORD)

    # The office pairs her with Kim instead of Sam, from today.
    page.get_by_role("link", name="Nell Newcomer").click()
    expect(page.locator("#current-supervisor")).to_contain_text("Supervised by Sam Supervisor")
    page.get_by_label("New supervisor").select_option(label="Kim Supervisor (training missing or expired)")
    page.get_by_role("button", name="Change supervisor").click()
    expect(page.locator("#current-supervisor")).to_contain_text("Supervised by Kim Supervisor")
    expect(page.locator(".flash.info")).to_contain_text("Training: Kim Supervisor: no training recorded")
    expect(page.locator("#pairing-history tbody tr")).to_have_count(2)
    nell_id = accounts.find_by_email(db, "nell@demo.test")["id"]
    kim = accounts.find_by_email(db, "kim.supervisor@demo.test")
    assert accounts.current_supervisor_id(db, nell_id) == kim["id"]

    # A date before her start is refused beside the form, and nothing changes.
    page.get_by_label("New supervisor").select_option(label="Sam Supervisor (training missing or expired)")
    page.get_by_label("From").fill("2020-01-01")
    page.get_by_role("button", name="Change supervisor").click()
    expect(page.locator("#err-supervisor")).to_contain_text("before Nell Newcomer's start date")
    expect(page.locator("#current-supervisor")).to_contain_text("Supervised by Kim Supervisor")

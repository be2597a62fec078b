"""An inspector in a real browser: a leader grants access to one member of staff's records;
the inspector sees exactly that scope, and nothing once the leader revokes it."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from governance_helper import add_user, day, push_signed
from playwright.sync_api import expect
from pypdf import PdfReader
from records_helper import Tablet as PushingTablet

pytestmark = pytest.mark.e2e


def test_a_leader_grants_an_inspector_who_sees_exactly_the_scope_until_revoked(another, db, vault, as_user):
    add_user(db, vault, "ian.inspector@ofsted.test", "Ian Inspector", ["inspector"])
    sam = PushingTablet(as_user("sam.supervisor@demo.test"), device="tab-sam")
    kim = PushingTablet(as_user("kim.supervisor@demo.test"), device="tab-kim")
    alex = push_signed(sam, db, "alex.staff@demo.test", "sam.supervisor@demo.test", session_date="2026-10-01")
    cal = push_signed(kim, db, "cal.staff@demo.test", "kim.supervisor@demo.test", session_date="2026-10-02")

    leader = another()
    leader.login("leader@demo.test")
    p = leader.page
    p.get_by_role("link", name="Governance").click()
    p.get_by_label("Inspector", exact=True).select_option(label="Ian Inspector (ian.inspector@ofsted.test)")
    p.get_by_label("Only these members of staff:").check()
    p.get_by_label("Alex Staff").check()
    p.get_by_label("Session records dated from").fill("2026-09-01")
    p.get_by_label("to", exact=True).fill("2026-10-31")
    p.get_by_label("Access ends at the end of").fill(day(-1))
    p.get_by_role("button", name="Grant access").click()
    expect(p.locator("#expires_on-error")).to_contain_text("The expiry date is in the past")
    p.get_by_label("Access ends at the end of").fill(day(30))
    p.get_by_role("button", name="Grant access").click()
    expect(p.get_by_text(f"Access granted until the end of {day(30)}.")).to_be_visible()
    expect(p.locator("#grants")).to_contain_text("Alex Staff")

    inspector = another()
    inspector.login("ian.inspector@ofsted.test")
    i = inspector.page
    i.get_by_role("link", name="Inspection").click()
    table = i.locator("#inspection-records")
    expect(table).to_contain_text("Alex Staff")
    expect(table).not_to_contain_text("Cal Staff")
    table.get_by_role("link", name="1 Oct 2026").click()  # dates as people read them
    expect(i.get_by_role("heading", level=1)).to_be_visible()
    expect(i.get_by_role("button", name="Add addendum")).to_have_count(0)
    record_url = i.url
    i.goto(f"/records/{cal['id']}")
    expect(i.get_by_text("There is nothing here, or you do not have access to it.")).to_be_visible()

    p.reload()
    views = p.locator("#inspector-views")
    expect(views).to_contain_text("view.refused")
    expect(views.get_by_role("link", name=alex["id"][:8]).first).to_be_visible()
    p.get_by_role("button", name="Revoke Ian Inspector's access").click()
    expect(p.get_by_text("Access revoked: it ended now.")).to_be_visible()

    i.goto(record_url)
    expect(i.get_by_text("There is nothing here, or you do not have access to it.")).to_be_visible()
    i.get_by_role("link", name="Inspection").click()
    expect(i.locator("#no-access")).to_be_visible()
    assert re.search(r"/inspect$", i.url)


def test_a_leader_downloads_the_subject_access_zip_and_the_inspection_pack(another, db, as_user):
    sam = PushingTablet(as_user("sam.supervisor@demo.test"), device="tab-sam")
    record = push_signed(sam, db, "alex.staff@demo.test", "sam.supervisor@demo.test",
                         session_date="2026-10-01")
    leader = another(accept_downloads=True)
    leader.login("leader@demo.test")
    p = leader.page
    p.get_by_role("link", name="Governance").click()
    p.get_by_role("link", name="Subject access").click()
    p.get_by_label("Member of staff").select_option(label="Alex Staff (alex.staff@demo.test)")
    with p.expect_download() as download:
        p.get_by_role("button", name="Download the ZIP").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    pdf = next(n for n in archive.namelist() if n.endswith(".pdf"))
    assert record["id"][:8] in pdf and "person.json" in archive.namelist()
    assert "Alex Staff" in PdfReader(io.BytesIO(archive.read(pdf))).pages[0].extract_text()

    p.get_by_role("link", name="Inspection pack").click()
    p.get_by_label("Session records dated from").fill("2026-09-01")
    p.get_by_label("to", exact=True).fill("2026-10-31")
    with p.expect_download() as download:
        p.get_by_role("button", name="Download the pack").click()
    pack = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert {"compliance.json", "training-register.json", "policy.json", "index.json"} <= set(pack.namelist())
    assert [n for n in pack.namelist() if n.startswith("records/")] == [pdf]

"""Importing a staff list (`/admin/import`): the preview with a per-row error report, nothing
imported until confirmed, only valid rows imported, pairings and invites for them."""

from __future__ import annotations

import io
import re

import pytest
from admin_helper import OFFICE, add_office_admin, count, invite_links, last_audit
from support import user_id

from webapp.db import transaction
from webapp.people import accounts

GOOD_AND_BAD = """Name,Email,Roles,Employment type,Start date,Probation end,Supervisor email
Priya Patel,priya.patel@demo.test,staff,permanent,2026-09-01,2027-03-01,sam.supervisor@demo.test
Tom Teach,tom.teach@demo.test,staff supervisor,sessional,01/09/2026,,
Uma Under,uma.under@demo.test,staff,volunteer,2026-09-01,,tom.teach@demo.test
Bad Email,not-an-email,staff,permanent,2026-09-01,,
Twice Over,priya.patel@demo.test,staff,permanent,2026-09-01,,
Already Here,ALEX.staff@demo.test,staff,permanent,2026-09-01,,
Odd Role,odd.role@demo.test,staff janitor,permanent,2026-09-01,,
Odd Type,odd.type@demo.test,staff,contractor,2026-09-01,,
Bad Date,bad.date@demo.test,staff,permanent,2026-13-01,,
Early End,early.end@demo.test,staff,permanent,2026-09-01,2026-08-01,
No Boss,no.boss@demo.test,staff,permanent,2026-09-01,,nobody@demo.test
Own Boss,own.boss@demo.test,staff supervisor,permanent,2026-09-01,,own.boss@demo.test
Big Role,big.role@demo.test,staff dsl,permanent,2026-09-01,,
"""
ERRORS = {
    5: "That is not an email address.",
    6: "priya.patel@demo.test appears twice in this file (line 2).",
    7: "alex.staff@demo.test already has an account.",
    8: "Unknown role: janitor.",
    9: "Choose permanent, temporary, sessional or volunteer.",
    10: "Give the date as YYYY-MM-DD or DD/MM/YYYY.",
    11: "The end of probation cannot be before the start date.",
    12: "No member of staff has the email nobody@demo.test (the supervisor).",
    13: "Nobody can supervise themselves.",
    14: "Only a leader may give these roles: DSL.",
}


@pytest.fixture
def office(db, vault, as_user):
    add_office_admin(db, vault)
    return as_user(OFFICE)


def upload(browser, text: str | bytes, name: str = "staff.csv"):
    data = text.encode() if isinstance(text, str) else text
    return browser.client.post("/admin/import", data={"csrf_token": browser.csrf(),
                                                      "file": (io.BytesIO(data), name)},
                               content_type="multipart/form-data")


def rows_of(page: str) -> dict[int, str]:
    body = page.split('id="import-rows"')[1].split("</table>")[0]
    found = re.findall(r"<tr[^>]*>\s*<td>(\d+)</td>(.*?)</tr>", body, re.S)
    return {int(line): cells for line, cells in found}


def import_id(page: str) -> str:
    return re.search(r'name="import_id" value="([^"]+)"', page).group(1)


def test_the_preview_reports_each_bad_row_and_only_confirmed_valid_rows_are_imported(db, office):
    users_before = count(db, "SELECT count(*) FROM users")
    preview = upload(office, GOOD_AND_BAD)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    rows = rows_of(page)
    for line, message in ERRORS.items():
        assert message in rows[line], (line, rows[line])
    for line in (2, 3, 4):
        assert "OK" in rows[line] and "row-errors" not in rows[line]
    assert "3 of 13 rows are ready to import" in page
    # Nothing is imported yet; the rows wait on the server, encrypted.
    assert count(db, "SELECT count(*) FROM users") == users_before
    stored = db.execute("SELECT rows_enc FROM staff_imports").fetchone()[0]
    assert b"priya" not in stored
    action, _, detail = last_audit(db, "import.")[-1]
    assert action == "import.previewed"
    assert "13 rows, 10 refused (lines 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)" in detail

    done = office.post_form("/admin/import/confirm", {"import_id": import_id(page)})
    assert done.status_code == 200
    assert len(invite_links(done.get_data(as_text=True))) == 3
    assert count(db, "SELECT count(*) FROM users") == users_before + 3
    priya, tom, uma = (accounts.find_by_email(db, f"{n}@demo.test")
                       for n in ("priya.patel", "tom.teach", "uma.under"))
    assert (priya["employment_type"], priya["start_date"], priya["probation_end"]) == (
        "permanent", "2026-09-01", "2027-03-01")
    assert (tom["roles"], tom["start_date"]) == ("staff supervisor", "2026-09-01")
    assert accounts.current_supervisor_id(db, priya["id"]) == user_id(db, "sam.supervisor@demo.test")
    assert accounts.current_supervisor_id(db, uma["id"]) == tom["id"]  # a supervisor from the same file
    assert priya["awaiting_password"] == uma["awaiting_password"] == 1
    assert count(db, "SELECT count(*) FROM invites") == 3
    assert accounts.find_by_email(db, "odd.role@demo.test") is None
    assert "Line 5 (not-an-email)" in done.get_data(as_text=True)  # the rows left out, again
    assert last_audit(db, "import.")[-1][0] == "import.confirmed"
    # It works once.
    again = office.post_form("/admin/import/confirm", {"import_id": import_id(page)})
    assert again.status_code == 400 and count(db, "SELECT count(*) FROM users") == users_before + 3
    assert last_audit(db, "import.")[-1] == ("import.refused", user_id(db, OFFICE), "confirm: no open import")


def test_rows_are_checked_again_at_confirmation(db, vault, office):
    page = upload(office, "name,email,employment_type\nRay Race,ray@demo.test,permanent\n"
                          "Sue Safe,sue@demo.test,temporary\n").get_data(as_text=True)
    with transaction(db):  # someone adds Ray meanwhile
        accounts.create_invited(db, vault, email="ray@demo.test", name="Ray Race", roles=["staff"])
    done = office.post_form("/admin/import/confirm", {"import_id": import_id(page)})
    body = done.get_data(as_text=True)
    assert len(invite_links(body)) == 1 and "ray@demo.test already has an account." in body
    assert accounts.find_by_email(db, "sue@demo.test") is not None


def test_only_who_uploaded_it_may_confirm_an_import(db, office, as_user):
    page = upload(office, "name,email,employment_type\nSue Safe,sue@demo.test,temporary\n")\
        .get_data(as_text=True)
    leader = as_user("leader@demo.test")
    assert leader.post_form("/admin/import/confirm", {"import_id": import_id(page)}).status_code == 400
    assert leader.post_form("/admin/import/confirm", {"import_id": "made-up"}).status_code == 400
    assert accounts.find_by_email(db, "sue@demo.test") is None


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
def test_a_spreadsheets_own_csv_is_read(db, office, encoding):
    excel = ("Full name;E-mail;Role;Contract;Start;Probation\r\n"
             "Zoë Ølsen;zoe@demo.test;Staff;Permanent;02/09/2026;28/02/2027\r\n").encode(encoding)
    page = upload(office, excel).get_data(as_text=True)
    row = rows_of(page)[2]
    assert "Zoë Ølsen" in row and "2026-09-02" in row and "2027-02-28" in row and "OK" in row


@pytest.mark.parametrize(("content", "name", "message"), [
    ("", "staff.csv", "The file is empty."),
    ("first,last\nA,B\n", "staff.csv", "The first row must name the columns; missing: name, email."),
    ("name,email\n", "staff.csv", "The file has a header row but nobody in it."),
    (b"PK\x03\x04\x00\x00binary", "staff.xlsx", "That is not a CSV file."),
    ("name,email\n" + "A,a@b.test\n" * 2001, "staff.csv", "At most 2000 people in one file: split it."),
])
def test_a_file_that_is_not_a_staff_list_is_refused(db, office, content, name, message):
    response = upload(office, content, name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(db, "SELECT count(*) FROM staff_imports") == 0
    assert last_audit(db, "import.")[-1][0] == "import.refused"


def test_no_file_at_all_is_refused(office):
    response = office.post_form("/admin/import", {})
    assert response.status_code == 400 and "Choose a CSV file" in response.get_data(as_text=True)

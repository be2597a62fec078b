"""The desktop review list (htmx filtering) and the record page."""

from records_helper import Tablet, new_doc, signed
from support import user_id


def push(as_user, db, who="alex.staff@demo.test", **fields):
    doc = new_doc(user_id(db, who), user_id(db, "sam.supervisor@demo.test"))
    doc["fields"].update(fields)
    Tablet(as_user("sam.supervisor@demo.test")).push_doc(doc)
    return doc


def test_filter_by_concern_returns_only_the_table_for_htmx(as_user, db):
    worrying = push(as_user, db, safeguarding_concern=True)
    calm = push(as_user, db, who="bea.staff@demo.test")
    leader = as_user("leader@demo.test")
    response = leader.get("/records?concern=1", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in text and worrying["id"] in text and calm["id"] not in text
    full = leader.get("/records?concern=1").get_data(as_text=True)
    assert "<html" in full and worrying["id"] in full and calm["id"] not in full


def test_filter_by_supervisee_and_status(as_user, db):
    alex = push(as_user, db)
    bea = push(as_user, db, who="bea.staff@demo.test")
    leader = as_user("leader@demo.test")
    text = leader.get(f"/records?supervisee={bea['supervisee']}").get_data(as_text=True)
    assert bea["id"] in text and alex["id"] not in text
    assert alex["id"] not in leader.get("/records?status=signed").get_data(as_text=True)


def test_record_page_shows_every_section_and_both_signatures(as_user, db):
    doc = new_doc(user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test"))
    doc["fields"].update({"workload": "Heavy <b>week</b>", "company_updates": "New lone-working policy"})
    doc["lists"]["actions"] = [{"id": "a1", "text": "Shadow Kim", "owner": "supervisee",
                                "deadline": "2026-12-10"}]
    doc["lists"]["caseload"] = [{"id": "c1", "student": "JB-04", "isp_notes": "ISP review due"}]
    doc = signed(doc)
    Tablet(as_user("sam.supervisor@demo.test")).push_doc(doc)
    text = as_user("leader@demo.test").get(f"/records/{doc['id']}").get_data(as_text=True)
    for words in ("Well-being and workload", "Caseload review", "Safeguarding check-in",
                  "Agreed actions", "Summary", "Shadow Kim", "JB-04", "ISP review due",
                  "New lone-working policy", "Heavy &lt;b&gt;week&lt;/b&gt;", "Signed"):
        assert words in text
    assert text.count('<svg class="signature"') == 2
    assert "stale" not in text


def test_home_shows_due_and_overdue_supervisees(as_user):
    text = as_user("sam.supervisor@demo.test").get("/").get_data(as_text=True)
    assert "Alex Staff" in text and "Bea Staff" in text and "probation" in text

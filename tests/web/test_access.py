"""Who may see what: the whole role x route matrix, and pull's scope."""

import re

import pytest
from records_helper import Tablet, new_doc, signed
from support import user_id

EVERYONE = ["leader@demo.test", "dsl@demo.test", "sam.supervisor@demo.test",
            "kim.supervisor@demo.test", "alex.staff@demo.test", "bea.staff@demo.test",
            "cal.staff@demo.test"]
# Who may read a record of Alex's (Sam supervises Alex).
MAY_READ_ALEX = {"leader@demo.test", "dsl@demo.test", "sam.supervisor@demo.test",
                 "alex.staff@demo.test"}


@pytest.fixture
def alex_record(as_user, db):
    doc = new_doc(user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test"))
    doc["fields"]["summary"] = "SECRET-SUMMARY"
    doc = signed(doc)
    Tablet(as_user("sam.supervisor@demo.test")).push_doc(doc)
    return doc


@pytest.mark.parametrize("email", EVERYONE)
def test_record_page(as_user, alex_record, email):
    response = as_user(email).get(f"/records/{alex_record['id']}")
    text = response.get_data(as_text=True)
    if email in MAY_READ_ALEX:
        assert response.status_code == 200 and "SECRET-SUMMARY" in text
    else:
        assert response.status_code == 404 and "SECRET-SUMMARY" not in text
        assert "nothing here, or you do not have access" in text


@pytest.mark.parametrize("email", EVERYONE)
def test_review_list(as_user, alex_record, email):
    text = as_user(email).get("/records").get_data(as_text=True)
    assert (alex_record["id"] in text) == (email in MAY_READ_ALEX)


# Who holds it on a tablet (recently signed: the one who conducted it and the one it is
# about); the DSL and leaders read it online only (docs/access.md).
MAY_HOLD_ALEX = {"sam.supervisor@demo.test", "alex.staff@demo.test"}


@pytest.mark.parametrize("email", EVERYONE)
def test_pull(as_user, alex_record, email):
    tablet = Tablet(as_user(email))
    ids = [r["record"] for r in tablet.pull()["records"]]
    assert (alex_record["id"] in ids) == (email in MAY_HOLD_ALEX)
    if ids:
        assert tablet.open(tablet.pull()["records"][0])["id"] == alex_record["id"]


def test_unknown_record_and_forbidden_record_look_the_same(as_user, alex_record):
    kim = as_user("kim.supervisor@demo.test")
    forbidden = kim.get(f"/records/{alex_record['id']}")
    missing = kim.get("/records/00000000-0000-4000-8000-000000000000")
    assert forbidden.status_code == missing.status_code == 404
    # Byte for byte, but for the CSP nonce, which is fresh in every response.
    def same(response):
        return re.sub(rb'nonce="[^"]+"', b'nonce=""', response.get_data())
    assert same(forbidden) == same(missing)


def test_refused_views_are_audited(as_user, alex_record, db):
    as_user("kim.supervisor@demo.test").get(f"/records/{alex_record['id']}")
    actions = [r["action"] for r in db.query("SELECT action FROM audit WHERE record_id = ?",
                                             [alex_record["id"]])]
    assert "view.refused" in actions


@pytest.mark.parametrize("url", ["/records", f"/records/{'0' * 8}", "/"])
def test_pages_need_login(browser, url):
    response = browser.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", ["/api/keys", "/api/pack", "/sync/pull"])
def test_api_needs_login_and_says_so_in_json(browser, url):
    response = browser.get(url)
    assert response.status_code == 401 and "Log in" in response.get_json()["error"]


@pytest.mark.parametrize("url", ["/tablet", "/offline", "/sw.js", "/manifest.webmanifest",
                                 "/login", "/api/session"])
def test_app_shell_is_public_and_holds_no_one_s_data(browser, url):
    assert browser.get(url).status_code == 200


def test_pack_lists_only_current_supervisees(as_user):
    pack = as_user("sam.supervisor@demo.test").get("/api/pack").get_json()
    assert sorted(p["name"] for p in pack["supervisees"]) == ["Alex Staff", "Bea Staff"]
    assert [p["probation"] for p in sorted(pack["supervisees"], key=lambda p: p["name"])] == [
        False, True]
    assert pack["templates"][0]["id"] == "supervision"


def test_keys_are_per_user_and_never_cached(as_user):
    sam = as_user("sam.supervisor@demo.test").get("/api/keys")
    kim = as_user("kim.supervisor@demo.test").get("/api/keys")
    assert sam.headers["Cache-Control"] == "no-store"
    assert sam.get_json()["key"] != kim.get_json()["key"]

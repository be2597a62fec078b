"""The organisation's settings: time zone, whom to ask about a password, the tablet's lock."""

from __future__ import annotations

from webapp.db import connect
from webapp.times import when

GOOD = {"timezone": "Europe/London", "contact": "the school office, office@school.example",
        "idle_minutes": "10", "open_idle_minutes": "25"}


def test_only_a_leader_opens_the_settings(as_user):
    assert as_user("leader@demo.test").get("/settings/organisation").status_code == 200
    for email in ("dsl@demo.test", "sam.supervisor@demo.test", "alex.staff@demo.test"):
        assert as_user(email).get("/settings/organisation").status_code == 404


def test_saved_settings_reach_the_login_page_and_the_tablet(as_user, browser, app):
    lee = as_user("leader@demo.test")
    response = lee.post_form("/settings/organisation", GOOD)
    assert response.status_code == 302
    login = browser.get("/login").get_data(as_text=True)
    assert "Ask the school office, office@school.example." in login
    tablet = browser.get("/tablet").get_data(as_text=True)
    assert 'data-idle-seconds="600" data-open-idle-seconds="1500"' in tablet
    db = connect(app.config["DATABASE"])
    entry = next(db.query("SELECT * FROM audit WHERE action = 'organisation.updated'"))
    assert "Europe/London" in entry["detail"]


def test_times_are_shown_in_the_chosen_zone(as_user, app):
    lee = as_user("leader@demo.test")
    lee.post_form("/settings/organisation", {**GOOD, "timezone": "Asia/Tokyo"})
    with app.test_request_context():
        assert when("2026-11-26T20:00:00Z") == "27 Nov 2026, 05:00"


def test_bad_settings_are_refused_and_nothing_changes(as_user, app):
    lee = as_user("leader@demo.test")
    for bad, field in (({"timezone": "Mars/Olympus"}, "timezone"),
                       ({"idle_minutes": "0"}, "idle_minutes"),
                       ({"idle_minutes": "ten"}, "idle_minutes"),
                       ({"open_idle_minutes": "500"}, "open_idle_minutes"),
                       ({"idle_minutes": "20", "open_idle_minutes": "5"}, "open_idle_minutes"),
                       ({"contact": "x" * 400}, "contact")):
        response = lee.post_form("/settings/organisation", {**GOOD, **bad})
        assert response.status_code == 400, bad
        assert f'id="{field}-error"' in response.get_data(as_text=True), bad
    db = connect(app.config["DATABASE"])
    assert next(db.query("SELECT count(*) AS n FROM organisation"))["n"] == 0


def test_a_leaders_start_page_leads_to_the_settings(as_user):
    page = as_user("leader@demo.test").get("/").get_data(as_text=True)
    assert 'href="/settings/organisation"' in page
    sams = as_user("sam.supervisor@demo.test").get("/").get_data(as_text=True)
    assert 'href="/settings/organisation"' not in sams

"""Logging in and out, CSRF on forms, and the login rate limit."""

import re

from support import TEST_CONFIG, Browser

from webapp import create_app
from webapp.cli import DEMO_PASSWORD


def test_login_and_logout(browser):
    assert browser.login("sam.supervisor@demo.test").status_code == 302
    assert browser.get("/api/session").get_json()["user"]["email"] == "sam.supervisor@demo.test"
    token = browser.csrf()
    browser.client.post("/logout", data={"csrf_token": token})
    assert browser.get("/api/session").get_json()["user"] is None


def test_wrong_password_is_refused_clearly(browser):
    response = browser.login("sam.supervisor@demo.test", "wrong password")
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
    assert browser.get("/api/session").get_json()["user"] is None


def test_unknown_email_gets_the_same_answer(browser):
    response = browser.login("nobody@demo.test", DEMO_PASSWORD)
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)


def test_login_form_without_csrf_token_is_refused(browser):
    response = browser.client.post("/login", data={"email": "sam.supervisor@demo.test",
                                                  "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_next_never_leaves_the_site(browser):
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = browser.client.post("/login?next=//evil.example/", data={
        "email": "sam.supervisor@demo.test", "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_logged_in_pages_are_not_cached(as_user):
    response = as_user("leader@demo.test").get("/records")
    assert response.headers["Cache-Control"] == "no-store"


def test_repeated_wrong_passwords_are_slowed_down(seeded_data, tmp_path):
    import shutil
    folder = tmp_path / "data"
    shutil.copytree(seeded_data, folder)
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(folder), "RATELIMIT_ENABLED": True,
                      "RATELIMIT_LOGIN": "3 per minute"})
    browser = Browser(app)
    codes = [browser.login("sam.supervisor@demo.test", "nope").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert "Too many attempts" in browser.login("sam.supervisor@demo.test").get_data(as_text=True)

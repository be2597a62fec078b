"""Lost tablets: the push-only device credential, flagging a device lost (the wipe answer),
draft key rotation and deactivation (issue 10). docs/security.md ("Tablets") maps each
control to the test here that proves it."""

from __future__ import annotations

import base64
import datetime as dt

from records_helper import Tablet, envelope, new_doc, op, signed
from support import Browser, user_id

from webapp.db import transaction
from webapp.people import accounts
from webapp.tablet import devices

SAM = "sam.supervisor@demo.test"
DEVICE = "tab-sam-1"
NEW_PASSWORD = "tawny owl lantern quarry"


def enrol(browser: Browser, device: str = DEVICE, **headers):
    """The tablet asks for its credential (login + CSRF): returns the response."""
    return browser.client.post("/api/device", json={"device": device},
                               headers={"X-CSRFToken": browser.csrf(), **headers})


def device_client(app, device: str, secret: str) -> Browser:
    """A client with no cookie at all that sends only the device credential."""
    thief = Browser(app)
    thief.client.environ_base["HTTP_AUTHORIZATION"] = f"Device {device}:{secret}"
    return thief


def device_push(app, device: str, secret: str, *ops, body_device: str | None = None):
    return device_client(app, device, secret).client.post(
        "/sync/push", json={"device": body_device or device, "ops": list(ops)})


def credential(app, as_user, email: str = SAM, device: str = DEVICE):
    """A logged-in Browser and Tablet for `email`, and the secret of its device credential."""
    browser = as_user(email)
    tablet = Tablet(browser, device=device)
    answer = enrol(browser, device)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    return browser, tablet, answer.get_json()["secret"]


def people(db):
    return user_id(db, "alex.staff@demo.test"), user_id(db, SAM)


# -- the push-only credential ------------------------------------------------------------

def test_a_locked_tablet_pushes_with_its_device_credential_and_no_cookie(app, as_user, db):
    browser, tablet, secret = credential(app, as_user)
    browser.post_form("/logout", {"reason": "lock"})  # the tablet locks: the login ends
    doc = new_doc(*people(db))
    answer = device_push(app, DEVICE, secret, op(tablet.key, tablet.kid, doc))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["results"][0]["status"] == "applied"
    assert next(db.query("SELECT rev FROM records WHERE id = ?", [doc["id"]]))["rev"] == 1
    used = next(db.query("SELECT * FROM device_credentials WHERE device = ?", [DEVICE]))
    assert used["last_used"] and used["user_id"] == user_id(db, SAM)
    # Stored only as a hash: the secret is nowhere in the database.
    assert secret not in str(list(db.query("SELECT * FROM device_credentials")))
    # A retry of the same op is answered as before.
    again = device_push(app, DEVICE, secret, op(tablet.key, tablet.kid, doc, op_id="x"))
    assert again.get_json()["results"][0]["status"] in ("applied", "duplicate")


def test_answers_to_a_device_credential_carry_no_record_content(app, as_user, db):
    browser, tablet, secret = credential(app, as_user)
    doc = new_doc(*people(db))
    assert tablet.push_doc(doc)["rev"] == 1
    # Edited elsewhere (rev 2), then this tablet's edit from rev 1: merged.
    tablet.push_doc({**doc, "fields": {**doc["fields"], "summary": "From the desk."},
                     "meta": {"edited": {"fields.summary": "2026-11-20T10:00:00.000Z"}}}, base_rev=1)
    mine = {**doc, "fields": {**doc["fields"], "wellbeing": "From the locked tablet."},
            "meta": {"edited": {"fields.wellbeing": "2026-11-20T10:01:00.000Z"}}}
    by_login = tablet.push(op(tablet.key, tablet.kid, mine, base_rev=1)).get_json()["results"][0]
    assert by_login["status"] == "merged" and "doc" in by_login  # the login gets the record
    mine["fields"] = {**doc["fields"], "wellbeing": "Again from the locked tablet."}
    merged = device_push(app, DEVICE, secret, op(tablet.key, tablet.kid, mine, base_rev=1))
    result = merged.get_json()["results"][0]
    assert result["status"] in ("merged", "conflict") and "doc" not in result, result
    # A locked record: the refusal says so, without the signed record.
    locked = signed(new_doc(*people(db)))
    assert tablet.push_doc(locked)["status"] == "applied"
    edit = {**locked, "fields": {**locked["fields"], "summary": "Too late."}}
    refused = device_push(app, DEVICE, secret, op(tablet.key, tablet.kid, edit, base_rev=1))
    result = refused.get_json()["results"][0]
    assert result["status"] == "rejected" and result["locked"] is True and "doc" not in result


def test_no_other_route_accepts_a_device_credential(app, as_user, db):
    browser, tablet, secret = credential(app, as_user)
    record = new_doc(*people(db))
    tablet.push_doc(record)
    thief = device_client(app, DEVICE, secret)
    assert thief.get("/api/session").get_json()["user"] is None
    for url in ("/sync/pull", "/api/keys", "/api/pack"):
        answer = thief.get(url)
        assert answer.status_code == 401 and "login" in answer.get_json(), url
    for url in ("/", "/records", "/account", f"/records/{record['id']}"):
        assert thief.get(url).status_code in (302, 404), url
    assert thief.client.post("/api/device", json={"device": DEVICE}).status_code in (400, 401)
    # With a cookie as well, the header still only ever pushes: the push is the device's.
    both = Browser(app)
    both.login(SAM)
    both.client.environ_base["HTTP_AUTHORIZATION"] = f"Device {DEVICE}:{secret}"
    doc = new_doc(*people(db))
    tablet.push_doc(doc)
    edit = {**doc, "fields": {**doc["fields"], "summary": "x"},
            "meta": {"edited": {"fields.summary": "2026-11-20T10:00:00.000Z"}}}
    tablet.push_doc(edit, base_rev=1)
    other = {**doc, "fields": {**doc["fields"], "wellbeing": "y"},
             "meta": {"edited": {"fields.wellbeing": "2026-11-20T10:01:00.000Z"}}}
    answer = both.client.post("/sync/push", json={"device": DEVICE,
                                                  "ops": [op(tablet.key, tablet.kid, other, base_rev=1)]})
    assert answer.status_code == 200 and "doc" not in answer.get_json()["results"][0]


def test_a_wrong_stale_or_borrowed_credential_is_refused(app, as_user, db):
    _, tablet, secret = credential(app, as_user)
    doc = new_doc(*people(db))
    one = op(tablet.key, tablet.kid, doc)
    for device, key, body_device in ((DEVICE, secret[:-2] + "AA", None),  # wrong secret
                                     ("tab-other", secret, None),  # another device's header
                                     (DEVICE, secret, "tab-other"),  # pushing as another device
                                     (DEVICE, "short", None)):
        answer = device_push(app, device, key, one, body_device=body_device)
        assert answer.status_code == 401, (device, body_device)
        assert answer.get_json()["error"] == devices.REVOKED_MESSAGE or "another device" in \
            answer.get_json()["error"]
    # Other schemes and garbage are not credentials either (and are not a login).
    for header in ("Bearer abc", "Device", "Device :", f"Device {DEVICE}{secret}"):
        anon = Browser(app)
        anon.client.environ_base["HTTP_AUTHORIZATION"] = header
        assert anon.client.post("/sync/push", json={"device": DEVICE, "ops": [one]}).status_code in (400, 401)
    # Older than SUPERVISE_DEVICE_DAYS: refused.
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=31)).isoformat().replace("+00:00", "Z")
    db.execute("UPDATE device_credentials SET created_at = ?", [old])
    assert device_push(app, DEVICE, secret, one).status_code == 401
    assert db.execute("SELECT count(*) FROM records").fetchone()[0] == 0


def test_a_device_credential_needs_a_recent_login_and_a_csrf_token(app, as_user, browser, db):
    assert enrol(browser).status_code == 401  # anonymous
    sam = as_user(SAM)
    no_token = sam.client.post("/api/device", json={"device": DEVICE})
    assert no_token.status_code == 400
    assert enrol(sam, "not a device id!").status_code == 400
    db.execute("UPDATE sessions SET authenticated_at = ?",
               [(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)).isoformat().replace("+00:00", "Z")])
    late = enrol(sam)
    assert late.status_code == 401 and late.get_json()["reauth"] is True
    assert db.execute("SELECT count(*) FROM device_credentials").fetchone()[0] == 0


def test_a_new_credential_replaces_the_old_one_on_that_device(app, as_user, db):
    browser, tablet, first = credential(app, as_user)
    second = enrol(browser).get_json()["secret"]
    one = op(tablet.key, tablet.kid, new_doc(*people(db)))
    assert device_push(app, DEVICE, first, one).status_code == 401
    assert device_push(app, DEVICE, second, one).status_code == 200


def test_cross_site_pushes_are_refused_even_with_a_device_credential(app, as_user, db):
    _, tablet, secret = credential(app, as_user)
    thief = device_client(app, DEVICE, secret)
    one = op(tablet.key, tablet.kid, new_doc(*people(db)))
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://evil.example"}):
        answer = thief.client.post("/sync/push", json={"device": DEVICE, "ops": [one]}, headers=headers)
        assert answer.status_code == 403, headers
    assert db.execute("SELECT count(*) FROM records").fetchone()[0] == 0


def revoked_by(app, as_user, db, act) -> None:
    browser, tablet, secret = credential(app, as_user)
    one = op(tablet.key, tablet.kid, new_doc(*people(db)))
    act(browser)
    answer = device_push(app, DEVICE, secret, one)
    assert answer.status_code == 401 and answer.get_json()["error"] == devices.REVOKED_MESSAGE
    assert "login" in answer.get_json()


def test_logging_out_of_all_devices_revokes_the_credentials(app, as_user, db):
    revoked_by(app, as_user, db, lambda b: b.post_form("/account/logout-others", {}))


def test_a_password_change_revokes_the_credentials(app, as_user, db):
    from webapp.cli import DEMO_PASSWORD
    revoked_by(app, as_user, db, lambda b: b.post_form("/account/password", {
        "current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD}))


def test_a_role_change_revokes_the_credentials(app, as_user, db):
    runner = app.test_cli_runner()
    revoked_by(app, as_user, db, lambda b: runner.invoke(
        args=["set-roles", "--email", SAM, "--role", "supervisor", "--role", "staff"]))


def test_an_administrator_ending_the_logins_revokes_the_credentials(app, as_user, db):
    runner = app.test_cli_runner()
    revoked_by(app, as_user, db, lambda b: runner.invoke(args=["end-sessions", "--email", SAM]))


def test_deactivation_ends_logins_revokes_credentials_and_rotates_the_key(app, as_user, db, vault):
    browser, tablet, secret = credential(app, as_user)
    one = op(tablet.key, tablet.kid, new_doc(*people(db)))
    result = app.test_cli_runner().invoke(args=["deactivate-user", "--email", SAM])
    assert result.exit_code == 0 and "draft key is now k2" in result.output, result.output
    assert browser.get("/api/session").get_json()["user"] is None
    assert device_push(app, DEVICE, secret, one).status_code == 401
    assert accounts.draft_key(db, vault, user_id(db, SAM))[0] == "k2"
    # Reactivated, the credential stays revoked.
    db.execute("UPDATE users SET active = 1 WHERE email = ?", [SAM])
    assert device_push(app, DEVICE, secret, one).status_code == 401


# -- a device flagged lost ---------------------------------------------------------------

def test_flagging_a_device_lost_revokes_ends_its_logins_and_wipes_it(app, as_user, db):
    browser, tablet, secret = credential(app, as_user)
    desk = as_user(SAM)  # the same person at a desk: not on the lost tablet
    # The tablet names itself on the requests it makes (the pull, /api/session).
    assert browser.get("/api/session", headers={"X-Device": DEVICE}).get_json()["user"]
    one = op(tablet.key, tablet.kid, new_doc(*people(db)))
    result = app.test_cli_runner().invoke(args=["device-lost", "--device", DEVICE])
    assert result.exit_code == 0 and "1 sending key(s) revoked, 1 login(s) ended" in result.output
    assert browser.get("/api/session").get_json()["user"] is None  # the tablet's login ended
    assert desk.get("/api/session").get_json()["user"]["email"] == SAM  # the desk's did not
    # Whatever the tablet sends next is answered with the wipe instruction.
    for answer in (Browser(app).get("/api/session", headers={"X-Device": DEVICE}),
                   desk.get("/sync/pull", headers={"X-Device": DEVICE}),
                   desk.get("/api/keys", headers={"X-Device": DEVICE}),
                   device_push(app, DEVICE, secret, one),
                   desk.post_json("/sync/push", {"device": DEVICE, "ops": [one]}),
                   enrol(desk, DEVICE)):
        assert answer.status_code == 410 and answer.get_json()["wipe"] is True
        assert answer.headers["Cache-Control"] == "no-store"
    assert db.execute("SELECT count(*) FROM records").fetchone()[0] == 0
    # Audited: the flag, and the first wipe answer.
    actions = [r["action"] for r in db.query("SELECT action FROM audit ORDER BY id")]
    assert "device.lost" in actions and actions.count("device.wipe_sent") == 1
    # An unknown device cannot be flagged.
    result = app.test_cli_runner().invoke(args=["device-lost", "--device", "tab-nobody"])
    assert result.exit_code != 0 and "no device" in result.output


def test_a_person_flags_their_own_tablet_lost_on_the_account_page(app, as_user, db):
    browser, tablet, secret = credential(app, as_user)
    page = browser.get("/account").get_data(as_text=True)
    assert DEVICE in page and "Can send your finished records while locked" in page
    # Someone else cannot flag Sam's tablet (it is not theirs: 404, as for no such tablet).
    kim = as_user("kim.supervisor@demo.test")
    assert DEVICE not in kim.get("/account").get_data(as_text=True)
    assert kim.post_form(f"/account/devices/{DEVICE}/lost", {}).status_code == 404
    assert kim.post_form("/account/devices/tab-nobody/lost", {}).status_code == 404
    assert not devices.is_lost(db, DEVICE)
    desk = as_user(SAM)
    answer = desk.post_form(f"/account/devices/{DEVICE}/lost", {})
    assert answer.status_code == 302 and devices.is_lost(db, DEVICE)
    assert "Lost since" in desk.get("/account").get_data(as_text=True)
    one = op(tablet.key, tablet.kid, new_doc(*people(db)))
    assert device_push(app, DEVICE, secret, one).status_code == 410


def test_the_list_devices_command_names_a_persons_tablets(app, as_user):
    credential(app, as_user)
    result = app.test_cli_runner().invoke(args=["list-devices", "--email", SAM])
    assert result.exit_code == 0 and DEVICE in result.output and "can send" in result.output


# -- draft key rotation ------------------------------------------------------------------

def test_rotating_a_draft_key_keeps_old_envelopes_readable_and_hands_out_the_new_key(app, as_user, db):
    sam = as_user(SAM)
    tablet = Tablet(sam, device=DEVICE)
    assert tablet.kid == "k1" and sam.get("/api/session").get_json()["kid"] == "k1"
    first = new_doc(*people(db))
    assert tablet.push_doc(first)["status"] == "applied"
    result = app.test_cli_runner().invoke(args=["rotate-key", "--email", SAM])
    assert result.exit_code == 0 and "k2" in result.output, result.output
    # The tablet's outbox, written under k1 before it heard of k2: still accepted.
    old = new_doc(*people(db))
    assert tablet.push_doc(old)["status"] == "applied"
    # The next key fetch gives k2, and /api/session says k2 is current.
    keys = sam.get("/api/keys").get_json()
    assert keys["kid"] == "k2" and base64.b64decode(keys["key"]) != tablet.key
    assert sam.get("/api/session").get_json()["kid"] == "k2"
    # Pulls are sealed under k2 now.
    pulled = sam.get("/sync/pull").get_json()["records"]
    assert {item["record"] for item in pulled} >= {first["id"], old["id"]}
    assert {item["kid"] for item in pulled} == {"k2"}
    new = Tablet(sam, device=DEVICE)
    assert new.open(pulled[0])["id"] == pulled[0]["record"]
    # A merged answer comes back under k2 too.
    assert new.push_doc(new_doc(*people(db)))["status"] == "applied"
    # A key the account does not have is refused.
    bogus = op(tablet.key, "k9", new_doc(*people(db)))
    assert tablet.push(bogus).get_json()["results"][0]["status"] == "rejected"


def test_kids_order_past_nine(app, db, vault):
    sam = user_id(db, SAM)
    with transaction(db):
        for _ in range(10):
            accounts.rotate_draft_key(db, vault, sam)
        db.execute("UPDATE user_keys SET created_at = '2026-01-01T00:00:00.000Z' WHERE user_id = ?", [sam])
    assert accounts.draft_key(db, vault, sam)[0] == "k11"
    assert accounts.current_kid(db, sam) == "k11"


def test_a_device_push_under_an_old_kid_after_rotation_is_accepted(app, as_user, db, vault):
    _, tablet, secret = credential(app, as_user)
    with transaction(db):
        accounts.rotate_draft_key(db, vault, user_id(db, SAM))
    doc = new_doc(*people(db))
    answer = device_push(app, DEVICE, secret, {"op": "o1", "record": doc["id"], "base_rev": None,
                                               **envelope(tablet.key, tablet.kid, doc)})
    assert answer.get_json()["results"][0]["status"] == "applied"

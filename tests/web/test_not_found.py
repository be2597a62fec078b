"""A missing page (or one the person may not see) says so and offers the places they may go."""

from __future__ import annotations

import re


def links(html: str) -> list[str]:
    places = html.split('class="places"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="[^"]*">([^<]+)</a>', places)


def test_anonymous_is_offered_the_login(browser):
    response = browser.get("/no-such-page")
    assert response.status_code == 404
    assert links(response.get_data(as_text=True)) == ["Log in"]


def test_each_person_is_offered_only_what_they_may_open(as_user):
    lee = as_user("leader@demo.test").get("/no-such-page").get_data(as_text=True)
    assert {"Start page", "Records", "Safeguarding", "Your account"} <= set(links(lee))
    assert "Tablet" not in links(lee)  # a leader does not record sessions
    sam = as_user("sam.supervisor@demo.test").get("/no-such-page").get_data(as_text=True)
    assert "Tablet" in links(sam) and "Safeguarding" not in links(sam)
    alex = as_user("alex.staff@demo.test").get("/no-such-page").get_data(as_text=True)
    assert "Safeguarding" not in links(alex) and "Tablet" not in links(alex)
    assert "Start page" in links(alex)


def test_an_api_miss_stays_json(browser):
    response = browser.get("/api/nothing-here")
    assert response.status_code == 404 and response.is_json


def test_the_top_bar_offers_the_tablet_only_to_those_who_record_sessions(as_user):
    def nav(email):
        page = as_user(email).get("/").get_data(as_text=True)
        return page.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    assert ">Tablet</a>" in nav("sam.supervisor@demo.test")
    assert ">Tablet</a>" in nav("dsl@demo.test")
    assert ">Tablet</a>" not in nav("alex.staff@demo.test")
    assert ">Tablet</a>" not in nav("leader@demo.test")

"""Times shown to people: local to the organisation, en-GB; machine times stay UTC."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from webapp.times import day, when

LONDON, TOKYO = ZoneInfo("Europe/London"), ZoneInfo("Asia/Tokyo")


def test_a_utc_time_is_shown_in_the_organisations_zone():
    assert when("2026-11-26T07:39:21.795Z", LONDON) == "26 Nov 2026, 07:39"  # GMT in winter
    assert when("2026-07-01T07:39:21Z", LONDON) == "1 Jul 2026, 08:39"  # BST in summer
    assert when("2026-11-26T20:00:00+00:00", TOKYO) == "27 Nov 2026, 05:00"  # the next day there


def test_the_clock_change_nights():
    assert when("2026-03-29T00:59:00Z", LONDON) == "29 Mar 2026, 00:59"
    assert when("2026-03-29T01:00:00Z", LONDON) == "29 Mar 2026, 02:00"
    assert when("2026-10-25T00:30:00Z", LONDON) == "25 Oct 2026, 01:30"
    assert when("2026-10-25T01:30:00Z", LONDON) == "25 Oct 2026, 01:30"  # the hour that repeats


def test_dates_and_what_is_not_a_time():
    assert day("2026-02-01") == "1 Feb 2026"
    assert day("2028-02-29") == "29 Feb 2028"
    assert when("") == "" and day(None) == ""
    assert when("not a time") == "not a time" and day("soon") == "soon"

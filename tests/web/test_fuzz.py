"""Generated bodies and documents at /sync/push and the other JSON endpoints: never a 5xx,
nothing stored from refused input, valid ops beside invalid ones still applied.

The short run lives here; `bench/fuzz.py` runs the same properties with many more examples.
"""

from collections import Counter

import pytest
from fuzzing import JSON, QUERY, bad_ops, check_get, check_push
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import user_id

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def people(db):
    return user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test")


def test_generated_ops_never_break_the_push(sam, db, people):
    outcomes = Counter()

    @FUZZ
    @given(data=st.data())
    def run(data):
        bad = data.draw(bad_ops(sam, *people))
        check_push(sam, db, bad, *people, outcomes)

    run()
    # The generator reaches the server's refusals, not just the batch check.
    assert outcomes["op rejected"] > 10, outcomes


@FUZZ
@given(body=JSON)
def test_generated_bodies_are_a_clear_4xx(sam, body):
    response = sam.browser.post_json("/sync/push", body)
    assert 400 <= response.status_code < 500 and response.get_json()["error"]


@pytest.mark.parametrize("path", ["/sync/pull", "/api/session", "/api/keys", "/api/pack"])
def test_json_endpoints_with_generated_queries(sam, path):
    outcomes = Counter()

    @settings(max_examples=15, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(query=QUERY)
    def run(query):
        check_get(sam.browser, path, query, outcomes)

    run()

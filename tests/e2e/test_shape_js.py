"""The tablet (static/js/shape.js, @cfworker/json-schema) and the server (sync/schema.py,
fastjsonschema) read the one schema file alike: the same records fit, the same do not.

Every case is handed to both sides as the same JSON text. Fractions are left out of the
generated values: JSON.parse cannot tell 2.0 from 2, and the server is the stricter there.
"""

from __future__ import annotations

import json

import pytest
from fuzzing import mutated, record_doc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import TEST_CONFIG

from sync import schema
from webapp import create_app

pytestmark = pytest.mark.e2e

SHAPE = """async ([text, part]) => {
  const { shapeProblems } = await import("/static/js/shape.js");
  return shapeProblems(JSON.parse(text), part);
}"""


@pytest.fixture(scope="module")
def _shape_app(_server, tmp_path_factory):
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path_factory.mktemp("shape") / "data")})
    _server[0].app = app
    yield app
    _server[0].app = None


@pytest.fixture
def live_app(_shape_app):
    """Overrides conftest's fresh app per test: these tests touch no data."""
    return _shape_app


@pytest.fixture(scope="module")
def js(_shape_app, browser, base_url):
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.goto("/login")
    yield lambda value, part="record": page.evaluate(SHAPE, [json.dumps(value), part])
    context.close()


SIGNED = record_doc("u-alex", "u-sam", True)
SIGNED["id"] = "3f1c2a9e-1b2c-4d5e-8f90-0a1b2c3d4e5f"
for sig, n in zip(SIGNED["signatures"], ("1", "2"), strict=True):
    sig["id"] = f"5a4b3c2d-1e0f-4a1b-8c2d-3e4f5a6b7c8{n}"


def test_a_record_the_tablet_makes_fits_on_both_sides(js):
    assert js(SIGNED) == [] and schema.problem("record", SIGNED) is None


@pytest.mark.parametrize("spoil, path", [
    (lambda d: d["signatures"][0].update(width="abc"), "record.signatures[0].width"),
    (lambda d: d["signatures"][1].update(extra=1), "record.signatures[1]"),
    (lambda d: d["signatures"][1].update(name="x" * 201), "record.signatures[1].name"),
    (lambda d: d["signatures"][0]["strokes"][0]["points"].append([1, 2]),
     "record.signatures[0].strokes[0].points[3]"),
    (lambda d: d["fields"].update(wellbeing={"nested": ["deep"]}), "record.fields.wellbeing"),
    (lambda d: d.update(id="NOT-A-UUID"), "record.id"),
    # Arabic-Indic digits: Python's \d would take them, the schema's [0-9] does not.
    (lambda d: d.update(session_date="\u0662\u0660\u0662\u0666-11-20"), "record.session_date"),
    (lambda d: d["signatures"][0].update(device="tab\n"), "record.signatures[0].device"),
])
def test_what_the_server_refuses_the_tablet_refuses_at_the_same_path(js, spoil, path):
    doc = json.loads(json.dumps(SIGNED))
    spoil(doc)
    problems = js(doc)
    assert problems and problems[0].startswith(path), problems
    assert schema.problem("record", doc).startswith(path)


WHOLE = st.recursive(st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_both_sides_agree_on_generated_records(js, data):
    doc = data.draw(mutated(SIGNED, values=WHOLE))
    server = schema.problem("record", doc)
    tablet = js(doc)
    assert (server is None) == (tablet == []), (server, tablet)

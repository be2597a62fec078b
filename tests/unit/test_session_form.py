"""The session template covers both policies, and its validation rules."""

import copy

from records_helper import new_doc

from webapp.records import session_form

TEMPLATE = session_form.current()


def test_template_covers_every_topic_both_policies_require():
    text = str(TEMPLATE).lower()
    for topic in ("well-being", "workload", "caseload", "isp", "current work", "emotional impact",
                  "safeguarding concern, however small", "reported to the dsl", "safe professional practice",
                  "relationships with learners", "behaviour management", "restraint",
                  "training", "goals", "company updates", "agreed actions", "deadline",
                  "summary", "actions agreed last time"):
        assert topic in text, topic
    assert {k["id"] for k in TEMPLATE["kinds"]} >= {"scheduled", "probation", "ad_hoc",
                                                    "dsl_safeguarding"}


def test_a_complete_record_passes():
    assert session_form.validate(new_doc("a", "b"), TEMPLATE, complete=True) == []


def test_safeguarding_check_in_is_required_when_complete():
    doc = new_doc("a", "b")
    del doc["fields"]["safeguarding_concern"]
    assert session_form.validate(doc, TEMPLATE, complete=False) == []
    errors = session_form.validate(doc, TEMPLATE, complete=True)
    assert errors == ["“Any safeguarding concern, however small?” is required"]


def test_list_items_are_checked():
    doc = new_doc("a", "b")
    doc["lists"]["actions"] = [{"id": "x", "text": "Do it", "owner": "boss", "deadline": "soon"},
                               {"id": "x", "text": "Again"}]
    errors = session_form.validate(doc, TEMPLATE, complete=True)
    assert "Action 1: “Who” is not one of the choices" in errors
    assert "Action 1: “Deadline” must be a date (YYYY-MM-DD)" in errors
    assert "Action 2: the id is used twice" in errors
    assert "Action 2: “Deadline” is required" in errors


def test_header_is_checked():
    doc = new_doc("a", "b", session_date="20/11/2026", start_time="9.30", duration_minutes=2,
                  kind="chat")
    errors = session_form.validate(doc, TEMPLATE, complete=False)
    assert len(errors) == 4


def test_unknown_template_is_refused():
    assert session_form.validate(new_doc("a", "b", template_version=99), TEMPLATE,
                                 complete=False) == [
        "the record was made with a template this server does not know"]


def test_rules_read_once_give_the_same_answers_as_a_fresh_template():
    doc = new_doc("a", "b", kind="chat")
    doc["fields"]["safeguarding_concern"] = True
    doc["lists"]["actions"] = [{"id": "x", "owner": ["supervisor"]}, {"id": "y", "extra": 1}]
    errors = session_form.validate(doc, TEMPLATE, complete=True)
    assert errors == session_form.validate(doc, copy.deepcopy(TEMPLATE), complete=True)
    assert "Action 1: “Who” is not one of the choices" in errors
    assert "“What is the concern?” is required" in errors
    assert "Action 2: unknown part “extra”" in errors

"""The rules of action reviews that need no database: which decisions a record may hold, and
which decisions about an action apply when the record is signed."""

from __future__ import annotations

from records_helper import new_doc

from sync import schema
from webapp.records import actions, session_form

ACTION = "7c1a3c8e-0a55-4a4b-9d7c-6a2f3b0e4d11"


def reviewing(*items) -> dict:
    doc = new_doc("u-alex", "u-sam")
    doc["lists"]["action_review"] = [dict(item) for item in items]
    return doc


def item(**over) -> dict:
    return {"id": "r1", "action_record": ACTION, "action_item": "a1", "text": "Read the policy",
            "deadline": "2026-11-01", "decision": "done", **over}


def problems(doc) -> list[str]:
    return session_form.validate(doc, session_form.current(), complete=True)


def test_a_review_decision_fits_the_template_and_the_schema():
    doc = reviewing(item(), item(id="r2", action_item="a2", decision="carried_forward",
                             new_deadline="2027-01-15"))
    assert problems(doc) == []
    assert schema.problem("record", doc) is None


def test_a_review_item_must_name_one_action_once_with_a_decision():
    assert "must name the action" in " ".join(problems(reviewing(item(action_record="not-an-id"))))
    assert "reviewed twice" in " ".join(problems(reviewing(item(), item(id="r2"))))
    assert "choose done or carried forward" in " ".join(problems(reviewing(item(decision=None))))
    assert "not one of the choices" in " ".join(problems(reviewing(item(decision="dropped"))))
    # The schema, which the tablet checks before signing, says the same about the decision.
    assert schema.problem("record", reviewing(item(decision="dropped"))) is not None
    assert schema.problem("record", reviewing({"id": "r1", "decision": "done"})) is not None


def test_old_records_without_a_review_or_a_named_owner_stay_valid():
    doc = new_doc("u-alex", "u-sam")
    doc["lists"] = {"caseload": [], "training": [], "actions": [
        {"id": "a1", "text": "Do it", "owner": "both", "deadline": "2026-12-01"}]}
    assert problems(doc) == []
    doc["lists"]["actions"][0]["owner"] = "other"
    assert "“Who else (their name)” is required" in " ".join(problems(doc))


def row(**over) -> dict:
    return {"record_id": ACTION, "item_id": "a1", "supervisee_id": "u-alex", "status": "open",
            **over}


def test_which_decisions_apply():
    doc = reviewing(item())
    assert actions.refusal(row(), doc) is None
    assert actions.refusal(row(status="carried_forward"), doc) is None
    assert actions.refusal(None, doc) == "no such action of this supervisee"
    assert actions.refusal(row(supervisee_id="u-cal"), doc) == "no such action of this supervisee"
    assert actions.refusal(row(record_id=doc["id"]), doc) == "agreed in this same record"
    assert actions.refusal(row(status="done"), doc) == "already done"
    assert actions.refusal(row(status="dropped"), doc) == "already dropped"

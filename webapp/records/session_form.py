"""The session template (the form, as data) and the validation rules it implies.

The template lives in `webapp/forms/*.json`. The capture form is rendered from it, the
tablet receives it in the pack, and the server validates every pushed record against it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path

FORMS = Path(__file__).parent / "forms"
HEADER_KEYS = ("id", "template", "template_version", "supervisee", "supervisor",
               "session_date", "start_time", "duration_minutes", "kind")
DOC_KEYS = set(HEADER_KEYS) | {"fields", "lists", "signatures", "meta", "addenda"}
SIGNATURE_ROLES = ("supervisor", "supervisee")
MAX_STROKE_POINTS = 5000
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def load(template_id: str = "supervision", version: int = 1) -> dict:
    """The template definition, read once (the same dict however it is asked for)."""
    return _load(template_id, version)


@functools.cache
def _load(template_id: str, version: int) -> dict:
    return json.loads((FORMS / f"{template_id}-v{version}.json").read_text())


def current() -> dict:
    return load()


def fields(template: dict) -> dict:
    """{field id: field definition} of the template's top-level fields."""
    return {f["id"]: f for s in template["sections"] for f in s.get("fields", [])}


def lists(template: dict) -> dict:
    """{list id: list definition}."""
    return {lst["id"]: lst for s in template["sections"] for lst in s.get("lists", [])}


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_words(session_date: str | None) -> str:
    """An ISO date as the statement says it: "26 Nov 2026" (fixed English month names, the
    same in static/js/capture-signing.js, whatever the locale: the text is signed)."""
    if not _is_date(session_date):
        return session_date or "(no date)"
    year, month, day = (int(part) for part in session_date.split("-"))
    return f"{day} {MONTHS[month - 1]} {year}"


def statement(template: dict, session_date: str | None) -> str:
    """The sentence each signer confirms, its date in words: "… on 26 Nov 2026."."""
    return template["statement"].format(date=date_words(session_date))


# What a signature made by typing the name adds to the statement (static/js/typed-signature.js
# has the same words): the signer confirms that too, and it is signed and sealed with the rest.
TYPED_STATEMENT = " I signed by typing my name."


def accepted_statements(template: dict, session_date: str | None) -> tuple[str, ...]:
    """The statements a new signature may carry: today's (date in words), the same signed by
    typing the name, and the one tablets showed before dates were in words (ISO date), which
    a tablet still running that version signs until it reloads."""
    words = statement(template, session_date)
    return (words, words + TYPED_STATEMENT, template["statement"].format(date=session_date or "(no date)"))


def is_typed(signature: dict) -> bool:
    """Whether a signature was made by typing the name rather than drawing (its statement
    says so; the strokes are the typed name written out)."""
    return str(signature.get("statement") or "").endswith(TYPED_STATEMENT)


def _is_date(value) -> bool:
    try:
        dt.date.fromisoformat(value)
        return isinstance(value, str) and len(value) == 10
    except (TypeError, ValueError):
        return False


class _Rule:
    """One answer's definition, read once: its checks without dictionary look-ups."""

    __slots__ = ("id", "label", "kind", "max", "options", "required", "required_if")

    def __init__(self, definition: dict):
        self.id, self.label, self.kind = definition["id"], definition["label"], definition["type"]
        self.max = definition.get("max", 5000)
        self.options = frozenset(o["id"] for o in definition.get("options", ()))
        self.required = definition.get("required", False)
        self.required_if = tuple(definition.get("required_if", {}).items())

    def problem(self, value, where: str) -> str | None:
        """An error message if the value does not fit the definition, else None."""
        if value is None or value == "":
            return None
        kind = self.kind
        if kind in ("text", "textarea"):
            if not isinstance(value, str):
                return f"{where}: “{self.label}” must be text"
            if len(value) > self.max:
                return f"{where}: “{self.label}” is longer than {self.max} characters"
        elif kind == "yesno":
            if not isinstance(value, bool):
                return f"{where}: “{self.label}” must be yes or no"
        elif kind == "choice":
            if not isinstance(value, str) or value not in self.options:
                return f"{where}: “{self.label}” is not one of the choices"
        elif kind == "date":
            if not _is_date(value):
                return f"{where}: “{self.label}” must be a date (YYYY-MM-DD)"
        return None

    def missing(self, values: dict) -> bool:
        """Required (always, or by another answer) and not answered."""
        needed = self.required or bool(self.required_if) and any(
            values.get(other) == expected for other, expected in self.required_if)
        if not needed:
            return False
        value = values.get(self.id)
        return value is None or value == "" or (isinstance(value, str) and not value.strip())


class _Rules:
    """What validation needs from a template, read once per template."""

    def __init__(self, template: dict):
        self.kinds = frozenset(k["id"] for k in template["kinds"])
        self.fields = [_Rule(f) for f in fields(template).values()]
        self.field_ids = frozenset(r.id for r in self.fields)
        self.lists = [(lst["id"], lst["label"], lst.get("max_items", 50),
                       [_Rule(f) for f in lst["fields"]]) for lst in lists(template).values()]
        self.list_ids = frozenset(lid for lid, *_ in self.lists)


@functools.cache
def _rules_of(template_id: str, version: int) -> _Rules:
    return _Rules(load(template_id, version))


def _rules(template: dict) -> _Rules:
    """The rules of a template from `load` (read once), or of any other template dict."""
    try:
        if load(template["id"], template["version"]) is template:
            return _rules_of(template["id"], template["version"])
    except (TypeError, OSError):  # not a template file this server has
        pass
    return _Rules(template)


def check_value(definition: dict, value, where: str) -> str | None:
    """An error message if the value does not fit the field definition, else None."""
    return _Rule(definition).problem(value, where)


def validate(doc, template: dict, *, complete: bool) -> list[str]:
    """Problems with a record document; empty if it is acceptable.

    Shape, types and lengths are always checked. With `complete` (a record being signed)
    every required answer, the safeguarding check-in included, must be there too.
    """
    if not isinstance(doc, dict):
        return ["the record must be a JSON object"]
    errors = []
    unknown = set(doc) - DOC_KEYS
    if unknown:
        errors.append(f"unknown part of the record: {', '.join(sorted(unknown))}")
    if doc.get("template") != template["id"] or doc.get("template_version") != template["version"]:
        errors.append("the record was made with a template this server does not know")
        return errors
    rules = _rules(template)
    if not _is_date(doc.get("session_date")):
        errors.append("the session date is missing or not a date")
    if doc.get("start_time") not in (None, "") and not _TIME.match(str(doc.get("start_time"))):
        errors.append("the start time must look like 09:30")
    minutes = doc.get("duration_minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)
                                or not 5 <= minutes <= 480):
        errors.append("the length must be between 5 and 480 minutes")
    if not isinstance(doc.get("kind"), str) or doc.get("kind") not in rules.kinds:
        errors.append("the kind of session is not one this template knows")
    for key in ("supervisee", "supervisor"):
        if not isinstance(doc.get(key), str) or not doc.get(key):
            errors.append(f"the {key} is missing")
    errors += _validate_fields(doc.get("fields"), rules, complete)
    errors += _validate_lists(doc.get("lists"), rules, complete)
    errors += _validate_review(doc.get("lists"))
    errors += validate_signatures(doc.get("signatures"))
    meta = doc.get("meta", {})
    if not isinstance(meta, dict) or not isinstance(meta.get("edited", {}), dict):
        errors.append("meta.edited must be an object")
    if complete:
        if not doc.get("start_time"):
            errors.append("the start time is required")
        if minutes is None:
            errors.append("the length of the session is required")
    return errors


def _validate_fields(values, rules: _Rules, complete: bool) -> list[str]:
    if not isinstance(values, dict):
        return ["fields must be an object"]
    errors = [f"unknown field “{k}”" for k in values if k not in rules.field_ids]
    for rule in rules.fields:
        if problem := rule.problem(values.get(rule.id), "fields"):
            errors.append(problem)
        elif complete and rule.missing(values):
            errors.append(f"“{rule.label}” is required")
    return errors


def _validate_lists(values, rules: _Rules, complete: bool) -> list[str]:
    if not isinstance(values, dict):
        return ["lists must be an object"]
    errors = [f"unknown list “{k}”" for k in values if k not in rules.list_ids]
    for lid, label, max_items, item_rules in rules.lists:
        items = values.get(lid, [])
        if not isinstance(items, list):
            errors.append(f"{lid} must be a list")
            continue
        if len(items) > max_items:
            errors.append(f"{label}: at most {max_items} items")
        known = {rule.id for rule in item_rules}
        seen = set()
        for n, item in enumerate(items, 1):
            where = f"{label} {n}"
            if not isinstance(item, dict) or not _ID.match(str(item.get("id", ""))):
                errors.append(f"{where}: each item needs an id")
                continue
            if item["id"] in seen:
                errors.append(f"{where}: the id is used twice")
            seen.add(item["id"])
            errors += [f"{where}: unknown part “{k}”" for k in item if k != "id" and k not in known]
            for rule in item_rules:
                if problem := rule.problem(item.get(rule.id), where):
                    errors.append(problem)
                elif complete and rule.missing(item):
                    errors.append(f"{where}: “{rule.label}” is required")
    return errors


REVIEW_LIST = "action_review"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _validate_review(values) -> list[str]:
    """The review of earlier actions: each item names one action (its record and item id),
    once, with a decision. Whether that action exists and is this supervisee's is decided when
    the record is signed (webapp/records/actions.py)."""
    items = values.get(REVIEW_LIST) if isinstance(values, dict) else None
    if not isinstance(items, list):
        return []
    errors, seen = [], set()
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            continue
        where = f"Earlier action {n}"
        ref = (item.get("action_record"), item.get("action_item"))
        if not isinstance(ref[0], str) or not _UUID.match(ref[0]) \
                or not isinstance(ref[1], str) or not _ID.match(ref[1]):
            errors.append(f"{where}: it must name the action it reviews")
        elif ref in seen:
            errors.append(f"{where}: the same action is reviewed twice")
        seen.add(ref)
        if item.get("decision") in (None, ""):
            errors.append(f"{where}: choose done or carried forward")
    return errors


def validate_signatures(signatures) -> list[str]:
    """Shape checks of the signatures (whether they are still valid is the merge's job)."""
    if signatures is None:
        return []
    if not isinstance(signatures, list) or len(signatures) > 20:
        return ["signatures must be a list"]
    errors = []
    for sig in signatures:
        if not isinstance(sig, dict):
            errors.append("a signature must be an object")
            continue
        if sig.get("role") not in SIGNATURE_ROLES:
            errors.append("a signature has no role")
        if not isinstance(sig.get("content_hash"), str) or len(sig["content_hash"]) != 64:
            errors.append("a signature must name the content hash it signs")
        strokes = sig.get("strokes")
        if not isinstance(strokes, list) or not strokes:
            errors.append("a signature must be drawn (no strokes)")
            continue
        points = 0
        for stroke in strokes:
            pts = stroke.get("points") if isinstance(stroke, dict) else None
            if not isinstance(pts, list) or not pts or not all(
                    isinstance(p, list) and len(p) >= 2 and all(isinstance(c, int) for c in p[:3])
                    for p in pts):
                errors.append("a signature stroke is malformed")
                break
            points += len(pts)
        if points > MAX_STROKE_POINTS:
            errors.append("a signature has too many points")
        if sig.get("role") == "supervisee" and not str(sig.get("name", "")).strip():
            errors.append("the supervisee must type their name when signing")
    return errors

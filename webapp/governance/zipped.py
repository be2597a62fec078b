"""Building the governance ZIPs in memory: JSON files, record PDFs, the download answer."""

from __future__ import annotations

import io
import json
import zipfile

from flask import make_response

from webapp.evidence import addenda, pdf
from webapp.evidence.routes import bundle
from webapp.people.accounts import User
from webapp.people.auth import vault

# Reads addenda as an inspector does: restricted safeguarding notes are left out (at most
# the sentence that one exists, when the DSL chose to show it).
OUTSIDE_READER = User(id="", email="", name="", roles=frozenset())


def record_pdf(db, row: dict, reader: User = OUTSIDE_READER) -> bytes:
    """A signed record's PDF copy with the addenda `reader` may read (never restricted
    notes, unless `reader` is a DSL, deputy or leader)."""
    evidence = bundle(db, row)
    evidence["addenda"] = addenda.list_for(db, vault(), row["id"], reader)
    return pdf.render(evidence)


def as_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str).encode("utf-8")


def build(files: list[tuple[str, bytes | str]]) -> bytes:
    """One ZIP (deflated) of (name, content) pairs, built in memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name, content if isinstance(content, bytes) else content.encode("utf-8"))
    return out.getvalue()


def download(body: bytes, filename: str):
    response = make_response(body)
    response.headers["Content-Type"] = "application/zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def pdf_name(row: dict) -> str:
    return f"records/{row['session_date'] or 'undated'}-{row['id'][:8]}.pdf"

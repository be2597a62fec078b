"""Governance: the legal life of session records (docs/access.md, docs/decisions.md).

- `inspectors`       leaders grant an inspector time-limited, read-only access to a scope;
                     the leader's list of grants and of every inspector's views
- `feedback`         the supervisee's optional, anonymous survey after acknowledging a record;
                     leaders' aggregates (only in groups of at least five people)
- `retention`        the retention rule and legal holds; `flask --app app retention [--apply]`
- `subject_access`   everything held about one member of staff, as one ZIP
- `inspection_pack`  signed records' PDFs, compliance, training and the policy, as one ZIP
- `erase`           deleting one record and every row that refers to it
- `dates`, `zipped`  small helpers shared by the above
"""

from __future__ import annotations

from importlib import import_module

# Each module here with a blueprint `bp` (registered in this order).
PAGES: tuple[str, ...] = ("inspectors", "feedback", "retention", "subject_access", "inspection_pack")


def init_app(app) -> None:
    for name in PAGES:
        app.register_blueprint(import_module(f"webapp.governance.{name}").bp)
    from webapp.governance import feedback, retention
    app.add_template_global(feedback.invitation, "feedback_invitation")
    app.cli.add_command(retention.retention_command)

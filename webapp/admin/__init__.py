"""Running the organisation (`/admin`): people and their invites, the staff list import,
who supervises whom, supervisors' training and the policy's review. For the office (role
`admin`) and leaders; who may do what is in `rules` and docs/access.md.

- `home`           the `/admin` page and its reminders
- `rules`          who may give which role; the checks on a person's details
- `people`         list, add, edit, deactivate (`/admin/people`)
- `invites`        one-time links that set a first password (`/invite/<token>`)
- `staff_import`   a CSV staff list: preview, then confirm (`/admin/import`)
- `pairings`       changing a supervisor, staff without one (`/admin/pairings`)
- `training`       supervisors' training register and warnings (`/admin/training`)
- `policy_review`  the policy's adoption, review and document (`/admin/policy`)
"""

from __future__ import annotations

from importlib import import_module

PAGES = ("home", "people", "invites", "staff_import", "pairings", "training", "policy_review")


def init_app(app) -> None:
    for name in PAGES:
        app.register_blueprint(import_module(f"webapp.admin.{name}").bp)
    from webapp.admin import invites
    app.cli.add_command(invites.invite_link_command)

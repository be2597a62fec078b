"""The safeguarding route: every concern reaches the DSL, is tracked until actioned, and never
tips anyone off (docs/access.md, "Safeguarding concerns").

- `concerns`  the domain and its SQL: projection from records, the queue, the chronology,
              who may see a concern, working days
- `routes`    the `/safeguarding` blueprint (thin: parse, authorise, call, render)
- `pdf`       a concern's chronology as a PDF
- `notify`    the email to the DSL and deputies (no details), and the `reminders` command
"""

from __future__ import annotations


def init_app(app) -> None:
    from webapp.safeguarding import notify, routes

    app.register_blueprint(routes.bp)
    app.context_processor(routes.top_bar_count)
    notify.init_app(app)

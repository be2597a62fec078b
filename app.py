"""Entry point: `flask --app app run`, gunicorn's `app:app` and the `flask --app app ...`
commands."""

import gc

from webapp import create_app

app = create_app()
# What start-up made lives as long as the process: kept out of the collector's way, so a full
# collection during a request walks only what requests made (docs/decisions.md).
gc.freeze()

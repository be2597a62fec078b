"""Oversight: when each person's supervision is due, the actions agreed, the dashboards,
reminders, sessions that did not happen and staff asking for a session early."""

from __future__ import annotations

from importlib import import_module

# Each module here with a blueprint `bp` (registered in this order).
PAGES: tuple[str, ...] = ("settings", "actions", "dashboard", "training", "missed", "requests",
                         "reminders")


def init_app(app) -> None:
    for name in PAGES:
        app.register_blueprint(import_module(f"webapp.oversight.{name}").bp)

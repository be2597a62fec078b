"""Entry point: `flask --app app run` and the `flask --app app ...` commands."""

from webapp import create_app

app = create_app()

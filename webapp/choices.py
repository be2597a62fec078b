"""A list of `<option>`s built in Python: a filter that lists a thousand people costs more
through a template loop than the rest of its page (bench/review.py, `/actions`)."""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape


def options(choices: Iterable[tuple[str, str]], chosen: str | None = None) -> Markup:
    """`<option>` elements for (value, label) pairs, the one equal to `chosen` selected."""
    return Markup("".join(
        f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>'
        f"{escape(label)}</option>" for value, label in choices))


def init_app(app) -> None:
    app.jinja_env.globals["options"] = options

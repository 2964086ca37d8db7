"""Rendering a document into prompt text, choices and target.

Templates are Jinja2 over the document's fields (`{{ question }}`, `{{ doc.question }}`).
A template that is one `{{ expression }}` evaluates to a native value, so
`doc_to_choice: "{{ [choice0, choice1, choice2] }}"` gives a list and
`doc_to_target: "{{ label }}"` gives an int.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2

from hyoka.errors import HyokaError, TaskConfigError
from hyoka.tasks.yaml_io import FunctionRef

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
_SINGLE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}$", re.S)


@lru_cache(maxsize=512)
def _compiled_template(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


@lru_cache(maxsize=512)
def _compiled_expression(source: str) -> Any:
    return _ENV.compile_expression(source, undefined_to_none=False)


def call_hook(hook: FunctionRef, *args: Any, task: str, field: str, what: str = "") -> Any:
    """Call a task's `!function` hook; whatever it raises becomes one line naming the task,
    the field, the hook and what it was given (`what`; a document is named by the caller)."""
    fn = hook.resolve()
    try:
        return fn(*args)
    except HyokaError:
        raise  # the hook said what is wrong (a missing data file, a bad row): pass it on
    except Exception as exc:  # noqa: BLE001 - a user's hook failing is input error, not a crash
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise TaskConfigError(
            f"task '{task}': {field} hook {hook.dotted} raised {type(exc).__name__}"
            f"{': ' + detail if detail else ''}{' on ' + what if what else ''}; fix the hook"
        ) from None


def evaluate(template: str | FunctionRef | list[Any], doc: dict[str, Any], *, task: str, field: str) -> Any:
    """Evaluate a doc_to_* field: a function, a literal list, one expression, or a text template."""
    if isinstance(template, FunctionRef):
        return call_hook(template, doc, task=task, field=f"prompt.{field}")
    if isinstance(template, list):
        return template
    context = {**doc, "doc": doc}
    try:
        match = _SINGLE_EXPRESSION.match(template.strip())
        if match:
            return _defined(_compiled_expression(match.group("expr").strip())(**context), doc, task=task, field=field)
        return _compiled_template(template).render(**context)
    except jinja2.UndefinedError as exc:
        raise TaskConfigError(_undefined_message(exc, doc, task=task, field=field)) from None
    except jinja2.TemplateError as exc:
        raise TaskConfigError(f"task '{task}': prompt.{field}: {type(exc).__name__}: {exc}") from None


def render_text(template: str | FunctionRef, doc: dict[str, Any], *, task: str, field: str) -> str:
    """Like `evaluate`, but always text (a single-expression template is rendered, not evaluated)."""
    if isinstance(template, FunctionRef):
        return str(call_hook(template, doc, task=task, field=f"prompt.{field}"))
    try:
        return _compiled_template(template).render(**{**doc, "doc": doc})
    except jinja2.UndefinedError as exc:
        raise TaskConfigError(_undefined_message(exc, doc, task=task, field=field)) from None
    except jinja2.TemplateError as exc:
        raise TaskConfigError(f"task '{task}': prompt.{field}: {type(exc).__name__}: {exc}") from None


def _defined(value: Any, doc: dict[str, Any], *, task: str, field: str) -> Any:
    """An expression such as `[A, B]` gives Undefined items instead of raising: catch them here."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if isinstance(item, jinja2.Undefined):
            try:
                str(item)  # StrictUndefined raises, with the missing name
            except jinja2.UndefinedError as exc:
                raise TaskConfigError(_undefined_message(exc, doc, task=task, field=field)) from None
    return value


def _undefined_message(exc: jinja2.UndefinedError, doc: dict[str, Any], *, task: str, field: str) -> str:
    fields = ", ".join(doc) or "none"
    return (
        f"task '{task}': prompt.{field}: {exc.message}; the document's fields are {fields} "
        "(fix the template, or the dataset's csv_header / format)"
    )


def check_template(source: str) -> str | None:
    """A syntax problem of a template (None when it compiles): `hyoka validate` and preflight."""
    try:
        match = _SINGLE_EXPRESSION.match(source.strip())
        if match:
            _compiled_expression(match.group("expr").strip())
        else:
            _compiled_template(source)
    except jinja2.TemplateSyntaxError as exc:
        return f"Jinja syntax error: {exc.message}" + (f" (template line {exc.lineno})" if exc.lineno and exc.lineno > 1 else "")
    return None

"""Typed settings given as text: the one `k=v` parser, backend arguments, generation overrides.

Every backend declares its `--model-args` as one pydantic model (a `BackendArgs` subclass:
types, ranges, defaults and a description per field; unknown keys are rejected). The same
loader (`validate_args`) checks `--model-args`, a settings file's `model_args:` and a judge's
backend arguments, so each says what is wrong the same way, in one line:

    --model-args n_ctx: must be an integer (got 'big')

`hyoka backends` prints these models, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Iterable, Literal, Mapping, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hyoka.errors import HyokaError, ModelSpecError

A = TypeVar("A", bound="BackendArgs")
M = TypeVar("M", bound=BaseModel)

_OPEN, _CLOSE = "[{(", "]})"


def parse_kv(items: str | Iterable[str] | None, *, flag: str) -> dict[str, str]:
    """`k=v,k=v` (or several such strings) → {k: v}, the values as written.

    Commas inside brackets or quotes do not split (`stop=["\\n\\n", "Q:"]`); values may contain
    '='. Later keys win, so `--gen a=1 --gen a=2` means a=2. Errors name `flag`."""
    if items is None:
        return {}
    out: dict[str, str] = {}
    for text in [items] if isinstance(items, str) else items:
        for part in _split_top_level(text):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise HyokaError(f"{flag} '{part.strip()}': write key=value (several as k=v,k=v)")
            out[key.strip()] = value.strip()
    return out


def _split_top_level(text: str) -> list[str]:
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


class BackendArgs(BaseModel):
    """Base of every backend's argument model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def given(self) -> dict[str, Any]:
        """The arguments the user set (not the defaults), e.g. for identities and messages."""
        return {k: getattr(self, k) for k in self.model_fields_set}


def validate_args(model: type[M], raw: Mapping[str, Any] | M, *, source: str) -> M:
    """Check `raw` against `model`; the first problem becomes one line naming `source` and the key."""
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        raise ModelSpecError(f"{source} {describe_error(model, exc)}") from None


def describe_error(model: type[BaseModel], exc: ValidationError) -> str:
    """'KEY: what is wrong (got VALUE)' for the first error, in words a user can act on."""
    key, message = error_parts(model, exc)
    return f"{key}: {message}"


def error_parts(model: type[BaseModel], exc: ValidationError) -> tuple[str, str]:
    """(dotted key, 'what is wrong (got VALUE)') of the first error."""
    errors = exc.errors()
    err = errors[0]
    loc = tuple(p for p in err["loc"] if isinstance(p, int) or (isinstance(p, str) and p.isidentifier()))
    key = ".".join(str(p) for p in loc) or "(arguments)"
    got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], dict) else ""
    if err["type"] == "extra_forbidden":
        return key, f"unknown argument; known: {', '.join(_fields_at(model, loc[:-1]))}"
    # a union (e.g. an integer or 'auto') fails once per member: say every way to write it
    same = [e for e in errors if e["loc"][: len(loc)] == err["loc"][: len(loc)] and len(e["loc"]) > len(loc)]
    parts = [_message(e).removeprefix("must be ") for e in (same or [err])]
    message = "must be " + " or ".join(dict.fromkeys(parts)) if all(_message(e).startswith("must be ") for e in (same or [err])) else _message(err)
    return key, f"{message}{got}"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) model at `loc`, for 'known: ...' lists."""
    current: Any = model
    for part in loc:
        info = current.model_fields.get(str(part)) if isinstance(current, type) and issubclass(current, BaseModel) else None
        annotation = info.annotation if info is not None else None
        current = next((a for a in (annotation, *get_args(annotation)) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if current is None:
            return []
    return list(current.model_fields)


def _message(err: Any) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    messages = {
        "int_parsing": "must be an integer",
        "int_from_float": "must be an integer",
        "int_type": "must be an integer",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "bool_parsing": "must be true or false",
        "bool_type": "must be true or false",
        "greater_than": f"must be > {ctx.get('gt')}",
        "greater_than_equal": f"must be >= {ctx.get('ge')}",
        "less_than": f"must be < {ctx.get('lt')}",
        "less_than_equal": f"must be <= {ctx.get('le')}",
        "literal_error": f"must be {ctx.get('expected')}",
        "string_type": "must be text",
        "list_type": "must be a list, e.g. [\"\\n\\n\", \"Q:\"]",
    }
    return messages.get(kind) or str(err["msg"]).removeprefix("Value error, ")


def describe_fields(model: type[BaseModel]) -> list[tuple[str, str, str, str]]:
    """(name, type, default, description) per field, for `hyoka backends`."""
    rows = []
    for name, info in model.model_fields.items():
        kind = _type_name(info.annotation) + _range_text(info.metadata)
        default = "" if info.is_required() else repr(info.get_default(call_default_factory=True))
        rows.append((name, kind, default, info.description or ""))
    return rows


def _range_text(metadata: list[Any]) -> str:
    marks = [(op, getattr(m, attr)) for m in metadata for attr, op in _BOUNDS if getattr(m, attr, None) is not None]
    return f" ({', '.join(f'{op} {v}' for op, v in marks)})" if marks else ""


_BOUNDS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))


def _type_name(annotation: Any) -> str:
    """int, float, 'a' | 'b', int | 'auto', list[str] (None left out: the default says it)."""
    origin, members = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " | ".join(repr(m) for m in members)
    if origin is Annotated:
        return _type_name(members[0])
    if origin in (Union, UnionType):
        return " | ".join(_type_name(m) for m in members if m is not type(None))
    if origin is list:
        return f"list[{_type_name(members[0])}]"
    return getattr(annotation, "__name__", str(annotation))


# -- generation overrides (--gen, a settings file's generation:) -----------------------------


class GenerationOverrides(BaseModel):
    """Generation settings a user may override; each range-checked, unset ones left to the task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: int | None = Field(default=None, gt=0, description="tokens to generate at most")
    temperature: float | None = Field(default=None, ge=0, description="sampling temperature; 0 is greedy")
    top_p: float | None = Field(default=None, gt=0, le=1, description="nucleus sampling mass, (0, 1]")
    seed: int | None = Field(default=None, description="sampling seed")
    stop: list[str] | None = Field(default=None, description="stop sequences, e.g. [\"\\n\\n\"]")
    n: int | None = Field(default=None, gt=0, description="samples per prompt")

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_list(cls, value: Any) -> Any:
        # on the command line `stop=["\n\n","Q:"]` is YAML; a bare word is one stop sequence
        if isinstance(value, str):
            loaded = _yaml_value(value)
            return loaded if isinstance(loaded, list) else [value]
        return value


def _yaml_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_gen(items: Iterable[str], *, allowed: Iterable[str] | None = None, flag: str = "--gen") -> dict[str, Any]:
    """`--gen k=v` items → checked overrides (only the keys given). `allowed`: the keys the
    command uses; any other key is an error rather than silently ignored."""
    raw = parse_kv(list(items), flag=flag)
    keys = list(allowed) if allowed is not None else list(GenerationOverrides.model_fields)
    for key in raw:
        if key not in keys:
            raise HyokaError(f"{flag} {key}: not a generation setting this command uses; use one of {', '.join(keys)}")
    values = validate_args(GenerationOverrides, raw, source=flag)
    return values.model_dump(exclude_unset=True)

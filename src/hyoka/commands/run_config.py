"""`hyoka run --config run.yaml` (and `hyoka mtbench`, `hyoka submit`): everything the
command line takes, from one YAML file.

Keys are the option names of the command (dashes or underscores: `num_fewshot`,
`model-args`), plus `model`. Lists and mappings are accepted where the command line takes
comma-separated or repeated values (`tasks: [jnli, jsquad]`, `gen: {max_tokens: 64}`,
`model_args: {n_ctx: 4096}`, `judge_args: {temperature: 0}`). Flags given on the command
line override the file. The resolved settings are saved in the run folder as
run_config.yaml (secrets redacted; hyoka.reporting.resolved_config), so a leaderboard row
can be rerun from it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from hyoka.errors import HyokaError
from hyoka.reporting.resolved_config import RUN_CONFIG_FILE, config_actions as _actions, resolved_config, save_resolved_config

__all__ = ["RUN_CONFIG_FILE", "apply_config", "apply_run_config", "load_run_config", "resolved_run_config", "save_run_config"]


#: options the command line takes comma-separated: a file may give them as a list
COMMA_SEPARATED = {"tasks", "categories", "turns", "model_args"}


class _ConfigLoader(yaml.SafeLoader):
    """YAML as a person writes a config: `docs: 1:30` is the text 1:30 (YAML 1.1 would read a
    base-60 number, 90), and a key given twice is an error, not the last one silently."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' given twice (line {key_node.start_mark.line + 1})", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _number_or_text(kind: Any) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        text = loader.construct_scalar(node)
        return str(text) if ":" in str(text) else kind(loader, node)

    return construct


_ConfigLoader.add_constructor("tag:yaml.org,2002:int", _number_or_text(yaml.SafeLoader.construct_yaml_int))
_ConfigLoader.add_constructor("tag:yaml.org,2002:float", _number_or_text(yaml.SafeLoader.construct_yaml_float))


def _as_kv_list(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"{k}={_scalar(v)}" for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _scalar(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return yaml.safe_dump(list(value), default_flow_style=True).strip()
    return str(value).lower() if isinstance(value, bool) else str(value)


def _coerce(path: Path, key: str, action: argparse.Action, value: Any) -> Any:
    """A YAML value in the form argparse would have produced from the command line."""
    if isinstance(action, argparse._AppendAction):  # repeatable: --gen, --include-path, --judge-args, --timings
        return _as_kv_list(value)
    if action.dest == "model_args" and isinstance(value, dict):
        return ",".join(f"{k}={_scalar(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if action.dest not in COMMA_SEPARATED:
            raise HyokaError(f"{path}: {key}: expected one value, got a list {value!r}")
        return ",".join(str(v) for v in value)  # comma-separated on the command line
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse.BooleanOptionalAction)):
        if value is None and action.default is None:  # --chat/--no-chat left to the command's default
            return None
        if not isinstance(value, bool):
            raise HyokaError(f"{path}: {key}: expected true or false, got {value!r}")
        return value
    if value is None:
        return None
    if action.type in (int, float) and (isinstance(value, bool) or (action.type is int and isinstance(value, float))):
        # int(1.5) and int(True) would pass; the command line refuses both
        raise HyokaError(f"{path}: {key}: expected {action.type.__name__}, got {value!r}")
    try:
        value = action.type(value) if callable(action.type) else str(value)
    except argparse.ArgumentTypeError as exc:  # a type that explains itself (--docs)
        raise HyokaError(f"{path}: {key}: {exc}") from None
    except (TypeError, ValueError):
        raise HyokaError(f"{path}: {key}: expected {getattr(action.type, '__name__', 'a value')}, got {value!r}") from None
    if action.choices is not None and value not in action.choices:
        raise HyokaError(f"{path}: {key}: {value!r} is not one of {', '.join(map(str, action.choices))}")
    return value


def load_run_config(path: Path, parser: argparse.ArgumentParser) -> dict[str, Any]:
    if not path.is_file():
        raise HyokaError(f"--config {path}: no such file")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_ConfigLoader) or {}  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise HyokaError(f"--config {path}: not valid YAML ({problem})") from None
    if not isinstance(data, dict):
        raise HyokaError(f"--config {path}: expected a mapping of option: value")
    actions = _actions(parser)
    out: dict[str, Any] = {}
    keys: dict[str, str] = {}
    for key, value in data.items():
        dest = "tasks" if key == "suite" else str(key).replace("-", "_")
        if dest not in actions:
            raise HyokaError(f"{path}: unknown key '{key}'; known: {', '.join(sorted(actions))}")
        if dest in keys:  # tasks/suite, num_fewshot/num-fewshot: one option, the later would win
            raise HyokaError(f"{path}: '{keys[dest]}' and '{key}' are the same option; give one")
        keys[dest] = str(key)
        out[dest] = _coerce(path, str(key), actions[dest], value)
    return out


def apply_config(args: argparse.Namespace) -> argparse.Namespace:
    """Fill every option the command line left at its default from --config FILE; once per
    parsed command line (hyoka.cli applies it for every command that takes --config)."""
    if not getattr(args, "config", None) or getattr(args, "config_applied", False):
        return args
    parser: argparse.ArgumentParser = args.config_parser
    actions = _actions(parser)
    for dest, value in load_run_config(Path(args.config), parser).items():
        current, default = getattr(args, dest, None), parser.get_default(dest)
        if isinstance(actions[dest], argparse._AppendAction):
            setattr(args, dest, [*value, *(current or [])])  # the command line's come last and win
        elif current == default:
            setattr(args, dest, value)
    args.config_applied = True
    return args


def apply_run_config(args: argparse.Namespace) -> argparse.Namespace:
    """`hyoka run`: --config applied; a model and tasks given one way or the other."""
    args = apply_config(args)
    if not args.model:
        raise HyokaError("give the model as BACKEND:NAME (or `model:` in --config FILE)")
    if not args.tasks:
        raise HyokaError("give --tasks or --suite (or `tasks:` in --config FILE)")
    return args


def resolved_run_config(args: argparse.Namespace) -> dict[str, Any]:
    """Every option of the run as it was used (what --config takes back), secrets redacted."""
    return resolved_config(args)


def save_run_config(run_dir: Path, args: argparse.Namespace) -> Path:
    return save_resolved_config(run_dir, args)

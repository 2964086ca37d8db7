"""The resolved options of a command, saved in its run folder as run_config.yaml (secrets
redacted): what `--config FILE` takes back, so a leaderboard row can be rerun from it.

Here, below every command that writes a run folder (`hyoka run`, `hyoka mtbench`,
`hyoka submit`), so each saves the same file the same way before it logs to W&B; reading a
--config file is hyoka.commands.run_config's.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

RUN_CONFIG_FILE = "run_config.yaml"
#: options that are not settings of the run itself
NOT_SAVED = {"func", "command", "config", "config_parser"}
#: what this one invocation does rather than what the run is: a file may set them, but the
#: saved file leaves them out, so `submit --config RUN/run_config.yaml` of a dry run submits
NOT_RERUN = {"dry_run", "resume"}


def config_actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """A command's options by destination, as a --config file names them."""
    return {a.dest: a for a in parser._actions if a.dest not in ("help", *NOT_SAVED)}


def resolved_config(args: argparse.Namespace) -> dict[str, Any]:
    """Every option of the command as it was used (what --config takes back), secrets redacted."""
    from hyoka.reporting.wandb_log import redact

    parser: argparse.ArgumentParser = args.config_parser
    return redact({dest: _as_written(dest, getattr(args, dest, None)) for dest in config_actions(parser) if dest not in NOT_RERUN})


#: options that name files or folders: saved absolute, so the file reruns from any folder
PATH_OPTIONS = {"include_path", "settings", "output", "profile", "timings", "questions", "answers", "baseline"}
#: options that take a built-in name or a file: saved absolute when they named a file here
NAME_OR_PATH_OPTIONS = {"judge_prompts", "reference"}


def _as_written(dest: str, value: Any) -> Any:
    """An option in the form the command line (and so --config) takes: --docs as START:END,
    paths absolute (a relative one would mean another file when rerun from elsewhere)."""
    if dest == "docs" and isinstance(value, (list, tuple)):
        return f"{value[0]}:{value[1]}"
    if dest in PATH_OPTIONS and value:
        return [_absolute(v) for v in value] if isinstance(value, list) else _absolute(value)
    if dest in NAME_OR_PATH_OPTIONS and isinstance(value, str) and Path(value).is_file():
        return _absolute(value)
    if dest == "model" and isinstance(value, str):
        backend, colon, name = value.partition(":")
        if colon and name and not Path(name).is_absolute() and Path(name).exists():
            return f"{backend}:{_absolute(name)}"  # a local model file or folder, not a hub id
    return value


def _absolute(path: str) -> str:
    return str(Path(path).expanduser().absolute())


def save_resolved_config(run_dir: Path, args: argparse.Namespace) -> Path:
    from hyoka.results.run_dir import _write_atomic

    path = run_dir / RUN_CONFIG_FILE
    text = f"# hyoka {args.command} --config {RUN_CONFIG_FILE}  (the resolved options of this run)\n"
    text += yaml.safe_dump(resolved_config(args), allow_unicode=True, sort_keys=False)
    _write_atomic(path, lambda f: f.write(text))
    return path

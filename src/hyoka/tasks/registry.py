"""Finding tasks and groups: the built-in folder plus any `--include-path` folders."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from pydantic import ValidationError

from hyoka.errors import TaskConfigError
from hyoka.tasks.config import GroupConfig, TaskConfig
from hyoka.tasks.yaml_io import FunctionRef, LoadedYaml, TaskFileError, expand_matrix, load_yaml

BUILTIN_DIR = Path(__file__).parent / "builtin"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a task file, located."""

    path: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass
class TaskSpec:
    config: TaskConfig
    path: Path


@dataclass
class Registry:
    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    groups: dict[str, GroupConfig] = field(default_factory=dict)
    group_paths: dict[str, Path] = field(default_factory=dict)

    def add(self, cfg: TaskConfig | GroupConfig, path: Path, *, builtin: bool) -> None:
        """Register one entry. A name defined twice is an error naming both files, except that
        a task of yours may replace a built-in one of the same name (documented)."""
        name = cfg.group if isinstance(cfg, GroupConfig) else cfg.name
        earlier = self.group_paths.get(name) if isinstance(cfg, GroupConfig) else (
            self.tasks[name].path if name in self.tasks else None
        )
        if earlier is not None and (earlier == path or not (builtin is False and _is_builtin(earlier))):
            where = "twice in " + str(path) if earlier == path else f"in both {earlier} and {path}"
            kind = "group" if isinstance(cfg, GroupConfig) else "task"
            raise TaskConfigError(f"{kind} '{name}' is defined {where}; rename one of them")
        if isinstance(cfg, GroupConfig):
            self.groups[name] = cfg
            self.group_paths[name] = path
        else:
            self.tasks[name] = TaskSpec(cfg.with_source_dir(path.parent), path)

    def resolve(self, names: Iterable[str]) -> list[str]:
        """Task and group names → the task names to run, in order, without duplicates."""
        out: list[str] = []
        for name in names:
            for task in self._expand(name, explicit=True):
                if task not in out:
                    out.append(task)
        return out

    def _expand(self, name: str, *, explicit: bool, path: tuple[str, ...] = ()) -> list[str]:
        if name in self.tasks:
            spec = self.tasks[name]
            return [name] if explicit or not spec.config.opt_in else []
        if name in path:
            raise TaskConfigError(f"{self._where(name)}: {group_cycle_text([*path, name])}")
        if name in self.groups or any(name in s.config.groups for s in self.tasks.values()):
            return [
                t
                for member in self.group_members(name)
                for t in self._expand(member, explicit=False, path=(*path, name))
            ]
        if path:
            raise TaskConfigError(f"{self._where(path[-1])}: group '{path[-1]}' lists '{name}', which is no task or group{self._suggest(name)}")
        raise TaskConfigError(f"unknown task or group '{name}'; `hyoka tasks` lists them{self._suggest(name)}")

    def _where(self, group: str) -> str:
        return str(self.group_paths.get(group, f"group '{group}'"))

    def group_cycles(self) -> list[str]:
        """Every group that contains itself (directly or through other groups), as problems."""
        problems, seen = [], set()
        for group in self.groups:
            cycle = self._cycle_from(group, (group,))
            if cycle and frozenset(cycle) not in seen:
                seen.add(frozenset(cycle))
                problems.append(f"{self._where(group)}: {group_cycle_text(cycle)}")
        return problems

    def _cycle_from(self, group: str, path: tuple[str, ...]) -> list[str] | None:
        for member in self._declared_members(group) if group in self.groups else []:
            if member == path[0]:
                return [*path, member]
            if member in self.groups and member not in path:
                found = self._cycle_from(member, (*path, member))
                if found:
                    return found
        return None

    def _declared_members(self, group: str) -> list[str]:
        cfg = self.groups[group]
        members = list(cfg.tasks)
        if cfg.categories:
            members += [t for cat in cfg.categories.values() for t in cat if t not in members]
        # tasks that name the group in their own `groups:` join it too
        members += [n for n, s in self.tasks.items() if group in s.config.groups and n not in members]
        return members

    def groups_touching(self, tasks: Iterable[str]) -> list[str]:
        """Groups with at least one member among `tasks`, in registry order."""
        wanted = set(tasks)
        return [g for g in self.groups if wanted & set(self.group_members(g))] + sorted(
            {g for t in wanted if t in self.tasks for g in self.tasks[t].config.groups if g not in self.groups}
        )

    def group_members(self, group: str) -> list[str]:
        if group not in self.groups:  # a group named only by its members' `groups:` tags
            return [n for n, s in self.tasks.items() if group in s.config.groups]
        return self._declared_members(group)

    def _suggest(self, name: str) -> str:
        import difflib

        close = difflib.get_close_matches(name, [*self.tasks, *self.groups], n=3)
        return f" (did you mean {', '.join(close)}?)" if close else ""


def group_cycle_text(cycle: list[str]) -> str:
    return f"group '{cycle[0]}' contains itself ({' -> '.join(cycle)}); remove one of these members"


def _is_builtin(path: Path) -> bool:
    return BUILTIN_DIR in path.parents


def validate_file(path: Path, *, deep: bool = False) -> tuple[list[TaskConfig | GroupConfig], list[Problem]]:
    """Parse and validate one YAML file; never raises for content problems.

    `deep`: also what the run would find later — templates that do not compile, hooks that do
    not import (missing module or function, a syntax error in it)."""
    try:
        loaded = load_yaml(path)
    except TaskFileError as exc:
        return [], [Problem(path, exc.line, "", exc.problem)]
    configs: list[TaskConfig | GroupConfig] = []
    problems: list[Problem] = []
    try:
        expanded = expand_matrix(loaded.data)
    except TaskConfigError as exc:
        return [], [Problem(path, loaded.line_of(("matrix",)), "matrix", str(exc))]
    model = GroupConfig if "group" in loaded.data else TaskConfig
    for data, _row in expanded:
        try:
            configs.append(model.model_validate(data))
        except ValidationError as exc:
            problems.extend(_problems_from(loaded, exc, model))
    if deep:
        for cfg in configs:
            if isinstance(cfg, TaskConfig):
                problems += [Problem(path, loaded.line_of(tuple(f.split("."))), f, m) for f, m in static_problems(cfg)]
    return configs, _unique(problems)


def _problems_from(loaded: LoadedYaml, exc: ValidationError, model: type[TaskConfig] | type[GroupConfig]) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        field_path = ".".join(str(p) for p in loc)
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = _unknown_field_message(model, loc)
        out.append(Problem(loaded.path, loaded.line_of(loc), field_path, message))
    return out


#: lm-eval-harness fields people bring along, and where the same thing goes in hyoka
LM_EVAL_HINTS = {
    "task": "lm-eval's task name: a task is named by `name:`, a group lists its members under `tasks:`",
    "doc_to_text": "in hyoka it goes under `prompt:` (prompt.doc_to_text)",
    "doc_to_target": "in hyoka it goes under `prompt:` (prompt.doc_to_target)",
    "doc_to_choice": "in hyoka it goes under `prompt:` (prompt.doc_to_choice)",
    "target_delimiter": "in hyoka it goes under `prompt:` (prompt.target_delimiter)",
    "fewshot_delimiter": "in hyoka it is fewshot.separator",
    "metric_list": "hyoka's field is `metrics:` (a list of names or {name: ..., params})",
    "output_type": "hyoka's field is `formulation:` (multiple_choice/loglikelihood → loglikelihood, generate_until → generate)",
    "include": "hyoka has no include: write the fields out, or make one file with `matrix:` rows",
    "dataset_path": "hyoka's data goes under `dataset:` (source, revision, splits with path: or mirror_path:)",
    "dataset_name": "hyoka's data goes under `dataset:` (splits with path: or mirror_path:)",
    "test_split": "hyoka's field is dataset.eval_split",
    "validation_split": "hyoka's field is dataset.eval_split",
    "fewshot_split": "hyoka's field is fewshot.split",
    "num_fewshot": "hyoka's field is fewshot.num",
    "generation_kwargs": "hyoka's field is `generation:` (max_tokens, temperature, top_p, stop, seed)",
    "filter_list": "hyoka's field is `extract:` (a list of extractors)",
    "process_docs": "in hyoka it goes under `dataset:` (dataset.process_docs)",
    "tag": "hyoka's field is `groups:`",
    "aggregate_metric_list": "a hyoka group aggregates with `aggregate: [micro, macro]`",
}


def _unknown_field_message(model: type[TaskConfig] | type[GroupConfig], loc: tuple[object, ...]) -> str:
    name = str(loc[-1]) if loc else ""
    allowed = _allowed_fields(model, loc[:-1])
    hint = LM_EVAL_HINTS.get(name) if len(loc) == 1 or name in ("task",) else None
    fields = f"; fields here: {', '.join(allowed)}" if allowed else ""
    if hint:
        return f"unknown field (lm-eval style): {hint}{fields} (docs/tasks.md lists every field)"
    return f"unknown field (check the spelling){fields} (docs/tasks.md lists every field)"


def _allowed_fields(model: type, loc: tuple[object, ...]) -> list[str]:
    """The field names at `loc` inside `model` (a nested pydantic model), [] if not a model."""
    from pydantic import BaseModel

    current: object = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        info = current.model_fields.get(str(part))
        if info is None:
            return []
        current = _model_in(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: object) -> object:
    """The pydantic model inside an annotation (dict[str, DataFile] → DataFile)."""
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        if str(p) not in seen:
            seen.add(str(p))
            out.append(p)
    return out


def load_registry(include_paths: Iterable[Path] = ()) -> Registry:
    """All tasks and groups; a broken file is a one-line error naming it."""
    registry = Registry()
    for folder in [BUILTIN_DIR, *include_paths]:
        if not folder.is_dir():
            raise TaskConfigError(f"--include-path {folder}: not a directory")
        for path in task_files(folder):
            configs, problems = validate_file(path)
            if problems:
                more = f" (+{len(problems) - 1} more; run `hyoka validate {path}`)" if len(problems) > 1 else ""
                raise TaskConfigError(f"{problems[0]}{more}")
            for cfg in configs:
                registry.add(cfg, path, builtin=folder == BUILTIN_DIR)
    return registry


def task_files(folder: Path) -> list[Path]:
    """The task and group files of a folder (files starting with '_' are skipped)."""
    return [p for p in sorted(folder.rglob("*.yaml")) if not p.name.startswith("_")]


def static_problems(config: TaskConfig) -> list[tuple[str, str]]:
    """(field, problem) for what a task file says that cannot work, found without its data:
    templates that do not compile, hooks that do not import."""
    from hyoka.tasks.prompts import check_template

    out: list[tuple[str, str]] = []
    p, ds = config.prompt, config.dataset
    named = {
        "prompt.doc_to_text": p.doc_to_text,
        "prompt.doc_to_target": p.doc_to_target,
        "prompt.doc_to_choice": p.doc_to_choice,
        "prompt.fewshot_target": p.fewshot_target,
        "dataset.reader": ds.reader,
        "dataset.process_docs": ds.process_docs,
    }
    for field_name, value in named.items():
        if isinstance(value, str):
            problem = check_template(value)
            if problem:
                out.append((field_name, problem))
        elif isinstance(value, FunctionRef):
            try:
                value.resolve()
            except TaskConfigError as exc:
                out.append((field_name, str(exc)))
    return out

"""`hyoka validate PATH...`: reject what a run would reject for a task file's content.

Per file: fields (pydantic), templates that do not compile, hooks that do not import, unknown
extractors or metrics. Across files (with the built-in tasks and --include-path folders):
a name defined twice, a group that contains itself, a group member that does not exist.
When a task's data is on this machine (beside it, in the mirror or the download cache),
every document's prompt is rendered too, so a hook that raises or a template over a column
the data lacks is found here and not after a model has started.
"""

from __future__ import annotations

from pathlib import Path

from hyoka.data.files import DataUnavailable, local_path
from hyoka.engine.preflight import task_problems
from hyoka.errors import HyokaError
from hyoka.tasks.config import TaskConfig
from hyoka.tasks.registry import BUILTIN_DIR, Problem, Registry, task_files, validate_file
from hyoka.tasks.task import PromptOptions, load_task


def validate_paths(paths: list[Path], include_paths: list[Path] | None = None) -> tuple[list[str], list[tuple[Path, int]]]:
    """(problems, [(file, entries)] of the files without problems)."""
    problems: list[str] = []
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = task_files(path)
            if not found:
                problems.append(f"{path}: no task files (*.yaml) in this folder")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    registry, registry_problems = _registry_with(files, list(include_paths or []))
    checked: list[tuple[Path, int]] = []
    for file in files:
        configs, found = validate_file(file, deep=True)
        file_problems = [str(p) for p in found]
        for cfg in configs:
            if isinstance(cfg, TaskConfig):
                engine_only = [(f, m) for f, m in task_problems(cfg) if f in ("extract", "metrics")]
                file_problems += [str(Problem(file, None, f, m)) for f, m in engine_only]
                if not file_problems:
                    file_problems += _data_problems(registry, cfg, file)
        file_problems += registry_problems.pop(file, [])
        problems += file_problems
        if not file_problems:
            checked.append((file, len(configs)))
    for leftover in registry_problems.values():
        problems += leftover
    return problems, checked


def _registry_with(files: list[Path], include_paths: list[Path]) -> tuple[Registry, dict[Path, list[str]]]:
    """The registry a run with these files would see; problems keyed by the file they are in."""
    registry = Registry()
    problems: dict[Path, list[str]] = {}
    seen: set[Path] = set()
    sources = [(BUILTIN_DIR, task_files(BUILTIN_DIR))] + [(d, task_files(d)) for d in include_paths if d.is_dir()]
    sources.append((Path("."), files))
    for folder, paths in sources:
        for path in paths:
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            configs, found = validate_file(path)
            if found:
                continue  # reported per file
            for cfg in configs:
                try:
                    registry.add(cfg, path, builtin=folder == BUILTIN_DIR)
                except HyokaError as exc:
                    problems.setdefault(path, []).append(f"{path}: {exc}")
    for problem in registry.group_cycles():
        path = Path(problem.split(":", 1)[0])
        problems.setdefault(path, []).append(problem)
    cyclic = {p.split("'")[1] for p in registry.group_cycles()}
    for group, config in registry.groups.items():
        if group in cyclic:
            continue
        try:
            registry.resolve([group])
        except HyokaError as exc:
            path = registry.group_paths[group]
            problems.setdefault(path, []).append(str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}")
    return registry, problems


def _data_problems(registry: Registry, cfg: TaskConfig, file: Path) -> list[str]:
    """Render every prompt when the data is here; a data file not on this machine is skipped."""
    spec = registry.tasks.get(cfg.name)
    config = spec.config if spec is not None and spec.path.resolve() == file.resolve() else cfg.with_source_dir(file.parent)
    splits = [config.dataset.eval_split] + ([config.fewshot.split] if config.fewshot.split else [])
    if any(local_path(config.dataset.splits[s], base_dir=config.source_dir) is None for s in splits):
        return []
    try:
        load_task(config).build_samples(limit=None, options=PromptOptions())
    except DataUnavailable:
        return []  # files a reader hook fetches itself and this machine lacks
    except HyokaError as exc:
        return [f"{file}: {exc}"]
    return []


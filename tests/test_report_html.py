"""`hyoka report`: the HTML file opened in a real headless Chromium (Debian's chromium and
chromium-driver, driven by selenium): leaderboard numbers, filters, a sample, a screenshot,
and no JavaScript error in the browser log."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import hyoka_cmd, import_or_require, require
from hyoka.reporting.runs import load_run
from reporting_runs import GemmaRuns  # the gemma_runs fixture is registered in conftest.py


@pytest.fixture(scope="module")
def browser():
    import_or_require("selenium", "pip install selenium (the test extra)")
    from selenium import webdriver

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    require(bool(chromium and driver_path), "chromium and chromium-driver are not installed (make setup-dev installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium  # type: ignore[assignment]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver_path)
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


def _js_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _open(driver, path: Path) -> None:
    driver.get(path.as_uri())
    deadline = time.time() + 20
    while driver.execute_script("return document.body.dataset.ready") != "1":
        assert time.time() < deadline, _js_errors(driver)
        time.sleep(0.05)


@pytest.mark.slow
def test_report_of_two_real_runs_in_chromium(gemma_runs: GemmaRuns, browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    out = tmp_path / "report.html"
    done = subprocess.run(hyoka_cmd("report", str(gemma_runs.zero), str(gemma_runs.two), "-o", str(out)),
                          env=gemma_runs.env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page  # offline: no CDN
    _open(browser, out)

    # leaderboard: every task's headline score is the run's metrics.json value
    runs = [load_run(gemma_runs.zero), load_run(gemma_runs.two)]
    for i, run in enumerate(runs):
        row = browser.find_element(By.CSS_SELECTOR, f"#board tbody tr[data-run='{i}']")
        for task in run.tasks:
            metric = run.headline_metric(task)
            cell = row.find_element(By.CSS_SELECTOR, f"td[data-col='{task}:{metric}']")
            expected = run.task_metrics(task)[metric]["value"]
            assert float(cell.get_attribute("data-value")) == pytest.approx(expected)
            assert cell.text.startswith(f"{expected:.4f}")
        # the two runs differ in few-shot count: the second row's scores are marked
    marks = browser.find_elements(By.CSS_SELECTOR, "#board .mark")
    assert marks and "few-shot" in marks[0].get_attribute("title")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#radars svg.radar")) == 2

    # sample browser: wrong answers only
    browser.find_element(By.CSS_SELECTOR, "nav button[data-tab='samples']").click()
    Select(browser.find_element(By.ID, "f-status")).select_by_value("wrong")
    wrong = sum(1 for run in runs for task in run.tasks for r in run.samples(task)
                if not r.get("error") and r["metrics"][run.headline_metric(task)] < 1)  # fmt: skip
    assert int(browser.find_element(By.ID, "count").get_attribute("data-count")) == wrong
    rows = browser.find_elements(By.CSS_SELECTOR, ".sample-row")
    assert rows and all(r.get_attribute("data-status") == "wrong" for r in rows)

    # open a sample: the prompt as sent, and the same document from the other run beside it
    index = int(rows[0].get_attribute("data-index"))
    rows[0].click()  # the list is drawn again, with this row selected
    cards = browser.find_elements(By.CSS_SELECTOR, "#detail .card")
    assert len(cards) == 2 and {c.get_attribute("data-run") for c in cards} == {"0", "1"}
    assert browser.find_element(By.CSS_SELECTOR, ".sample-row.selected").get_attribute("data-index") == str(index)
    sample = json.loads(browser.execute_script("return JSON.stringify(JSON.parse(document.getElementById('hyoka-data').textContent).samples[arguments[0]])", index))  # noqa: E501
    run = runs[sample[0]]
    record = next(r for r in run.samples(sample[1]) if r["doc_id"] == sample[2])
    shown = cards[0].find_element(By.CSS_SELECTOR, "pre.f-prompt").text
    assert shown.strip() == record["prompt"].strip()

    # text search narrows the list
    Select(browser.find_element(By.ID, "f-status")).select_by_value("")
    box = browser.find_element(By.ID, "f-text")
    box.send_keys("no such text anywhere 12345")
    time.sleep(0.4)
    assert browser.find_element(By.ID, "count").get_attribute("data-count") == "0"

    browser.save_screenshot(str(tmp_path / "report.png"))
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert _js_errors(browser) == []


def test_report_stays_responsive_with_20000_samples(browser, tmp_path: Path) -> None:
    """A run folder with 20,000 samples: the page opens, filters and searches quickly."""
    run = tmp_path / "big"
    run.mkdir()
    rows = [{"task": "big", "doc_id": i, "prompt": f"質問 {i}: " + "x" * 200, "choices": None, "references": [str(i % 7)],
             "gold_index": None, "output": str(i % 5), "reasoning": None, "extracted": str(i % 5), "prediction": str(i % 5),
             "metrics": {"exact_match": float(i % 5 == i % 7)}, "fewshot_ids": [], "doc": {}, "error": None}
            for i in range(20_000)]  # fmt: skip
    (run / "samples_big.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    mean = sum(r["metrics"]["exact_match"] for r in rows) / len(rows)
    (run / "metrics.json").write_text(json.dumps({"tasks": {"big": {"metrics": {"exact_match": {"value": mean, "stderr": 0.003, "n": 20000}}, "errors": 0}}, "groups": {}}))  # noqa: E501
    (run / "summary.json").write_text(json.dumps({"model": {"name": "synthetic", "weights_hash": "0" * 64}, "tasks": {"big": {"num_fewshot": 0}}}))  # noqa: E501
    out = tmp_path / "big.html"
    done = subprocess.run(hyoka_cmd("report", str(run), "-o", str(out)), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    from selenium.webdriver.common.by import By

    started = time.time()
    _open(browser, out)
    assert time.time() - started < 10
    browser.find_element(By.CSS_SELECTOR, "nav button[data-tab='samples']").click()
    assert len(browser.find_elements(By.CSS_SELECTOR, ".sample-row")) == 50  # one page, not 20,000 nodes
    took = browser.execute_script("""
        const t0 = performance.now();
        const box = document.getElementById('f-text');
        box.value = '質問 1999'; box.dispatchEvent(new Event('input'));
        return new Promise(r => setTimeout(() => r(performance.now() - t0), 400));""")
    assert browser.find_element(By.ID, "count").get_attribute("data-count") == "11"  # 1999, 19990..19999
    assert took < 2000
    assert _js_errors(browser) == []

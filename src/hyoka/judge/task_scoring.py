"""Judging a task's generated answers: the work behind the `judge` metric (hyoka.metrics.judge).

A task YAML says how (`JudgeMetricSpec`, the metric's parameters): the pinned FastChat judge
prompt file and which prompt, single-answer rating or pairwise against a pinned baseline
answers file, where the question (and an optional reference answer) is in each document.
The judge model comes from the command line (`--judge`); the run puts a `TaskJudge` around
it into the scoring context, and the metric hands it its documents.

- single: each answer is rated 1–10 (`judge_score`); a document with a reference answer
  (a doc field, or a pinned reference answers file by id) uses `reference_prompt`.
- pairwise: each answer against the baseline's answer to the same question, judged in both
  orders (model as A, then as B); FastChat's rule makes orders that disagree a tie. Per
  document: `win_rate_adjusted` (win 1, tie 0.5, loss 0), `win_rate`, `loss_rate`, `tie_rate`.

Every judge call goes through `Judge` (the one request cache, its retries of unparseable
replies). An answer that cannot be judged is a failure with its reason, counted beside the
score and left out of it, never scored as wrong: `answer_error` (generation failed),
`missing_baseline_answer`, or the judge's own (`no_rating`, `no_verdict`, `refusal`,
`backend_error`, ...).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

from hyoka.data.files import ResolvedFile, resolve_file
from hyoka.errors import DatasetError, TaskConfigError
from hyoka.judge.answer_files import AnswerSet, load_answer_file
from hyoka.judge.judge import OUTCOME_VALUE, Judge, JudgeItem, Judgment, game_outcome
from hyoka.judge.prompts import JudgePrompt, load_prompt_file
from hyoka.metrics.base import SampleScore, ScoreInput
from hyoka.metrics.judge import LABELS, JudgeMetricSpec, Mode

# --- the files a spec names, read once before any model call --------------------------------


@dataclass(frozen=True)
class JudgeResources:
    prompt: JudgePrompt
    reference_prompt: JudgePrompt | None
    baseline: AnswerSet | None
    #: question id (as text) → reference answer
    references: Mapping[str, str]
    files: Mapping[str, ResolvedFile]

    @property
    def baseline_model(self) -> str | None:
        return self.baseline.model_id if self.baseline else None


_FIELDS = {"single": {"question", "answer", "ref_answer_1"}, "pairwise": {"question", "answer_a", "answer_b", "ref_answer_1"}}


def _pick_prompt(prompts: Mapping[str, JudgePrompt], name: str, spec: JudgeMetricSpec, source: str) -> JudgePrompt:
    if name not in prompts:
        raise TaskConfigError(f"metric 'judge': prompt '{name}' is not in {source} (it has {', '.join(prompts)})")
    prompt = prompts[name]
    if prompt.type != spec.mode:
        raise TaskConfigError(f"metric 'judge': prompt '{name}' in {source} is a {prompt.type} prompt, the metric's mode is {spec.mode}")
    extra = prompt.fields - _FIELDS[spec.mode]
    if extra:
        raise TaskConfigError(f"metric 'judge': prompt '{name}' in {source} needs {sorted(extra)}, which a one-turn task cannot fill")
    return prompt


def load_resources(spec: JudgeMetricSpec, *, task: str) -> JudgeResources:
    """Read and check the prompt, baseline and reference files (sha256-verified)."""
    files = {"prompts": resolve_file(spec.prompts, task=task)}
    source = spec.prompts.mirror_path
    prompts = load_prompt_file(files["prompts"].path, label=source)
    prompt = _pick_prompt(prompts, spec.prompt, spec, source)
    reference_prompt = _pick_prompt(prompts, spec.reference_prompt, spec, source) if spec.reference_prompt else None
    baseline = None
    if spec.baseline is not None:
        files["baseline"] = resolve_file(spec.baseline, task=task)
        baseline = load_answer_file(files["baseline"].path, numeric_ids=False, label=spec.baseline.mirror_path)
        if spec.baseline_model:
            baseline.model_id = spec.baseline_model
    references: dict[str, str] = {}
    if spec.references is not None:
        files["references"] = resolve_file(spec.references, task=task)
        answers = load_answer_file(files["references"].path, numeric_ids=False)
        references = {str(qid): a.samples[0].turns[0] for qid, a in answers.answers.items() if a.samples[0].turns}
    return JudgeResources(prompt, reference_prompt, baseline, references, files)


# --- documents → judge items → scores -----------------------------------------------------------


@dataclass(frozen=True)
class JudgedDoc:
    """One document to judge: its fields and the model's answers (one per sample; None where
    generation failed)."""

    key: str
    doc: Mapping[str, Any]
    answers: Sequence[str | None]


@dataclass
class DocScore:
    """A document's values (the mean over its judged samples; empty when none could be
    judged), why each unjudged sample was not, and every judgment for the samples file."""

    values: dict[str, float]
    failures: list[str]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failure(self) -> str | None:
        """The document's failure reason when nothing of it could be scored."""
        return self.failures[0] if not self.values and self.failures else None


def doc_field(doc: Mapping[str, Any], path: str, *, task: str, key: str) -> Any:
    """`turns.0` → doc["turns"][0]; a missing field is one error naming the document."""
    value: Any = doc
    for part in path.split("."):
        try:
            value = value[int(part)] if isinstance(value, list) else value[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise DatasetError(f"task '{task}': document {key} has no field '{path}' (metric 'judge'); fix the metric's *_field") from None
    return value


@dataclass(frozen=True)
class _Ref:
    doc: int
    sample: int
    game: str | None = None


def _reference(spec: JudgeMetricSpec, res: JudgeResources, doc: JudgedDoc, task: str) -> str | None:
    if spec.reference_categories is not None:
        if str(doc_field(doc.doc, spec.category_field, task=task, key=doc.key)) not in spec.reference_categories:
            return None
    if spec.reference_field is not None:
        value = doc_field(doc.doc, spec.reference_field, task=task, key=doc.key)
        return None if value in (None, "") else str(value)
    if spec.references is not None:
        return res.references.get(str(doc_field(doc.doc, spec.id_field, task=task, key=doc.key)))
    return None


def build_items(
    spec: JudgeMetricSpec, res: JudgeResources, docs: Sequence[JudgedDoc], *, task: str
) -> tuple[list[JudgeItem], dict[str, _Ref], dict[tuple[int, int], str]]:
    """The judge items (pairwise: two per answer), what each is about, and the samples that
    cannot be judged with their reason."""
    items: list[JudgeItem] = []
    refs: dict[str, _Ref] = {}
    unjudged: dict[tuple[int, int], str] = {}
    for d, doc in enumerate(docs):
        question = str(doc_field(doc.doc, spec.question_field, task=task, key=doc.key))
        reference = _reference(spec, res, doc, task)
        prompt = res.reference_prompt if reference is not None and res.reference_prompt else res.prompt
        base_values = {"question": question, **({"ref_answer_1": reference} if reference is not None else {})}
        baseline = None
        if spec.mode == "pairwise":
            assert res.baseline is not None
            qid = doc_field(doc.doc, spec.id_field, task=task, key=doc.key)
            found = res.baseline.answers.get(qid) or res.baseline.answers.get(str(qid))
            baseline = found.samples[0].turns[0] if found and found.samples[0].turns else None
        for s, answer in enumerate(doc.answers):
            if answer is None:
                unjudged[(d, s)] = "answer_error"
                continue
            if spec.mode == "single":
                key = f"{doc.key}/s{s}"
                items.append(JudgeItem(key, prompt, {**base_values, "answer": answer}))
                refs[key] = _Ref(d, s)
                continue
            if baseline is None:
                unjudged[(d, s)] = "missing_baseline_answer"
                continue
            for game, (a, b) in (("g1", (answer, baseline)), ("g2", (baseline, answer))):
                key = f"{doc.key}/s{s}/{game}"
                items.append(JudgeItem(key, prompt, {**base_values, "answer_a": a, "answer_b": b}))
                refs[key] = _Ref(d, s, game)
    return items, refs, unjudged


def _failure(judgments: Sequence[Judgment]) -> str:
    reasons = [j.failure for j in judgments if j.failure]
    return (reasons[0] or "unknown").split(":", 1)[0] if reasons else "unknown"


def _sample_values(mode: Mode, judgments: Sequence[Judgment]) -> tuple[dict[str, float] | None, str | None]:
    """One sample's values from its judgments (single: one; pairwise: g1 and g2), or why none."""
    if any(not j.ok for j in judgments):
        return None, _failure(judgments)
    if mode == "single":
        assert judgments[0].rating is not None
        return {"judge_score": judgments[0].rating}, None
    by_game = {j.key.rsplit("/", 1)[-1]: j for j in judgments}
    outcome = game_outcome(by_game["g1"].winner or "", by_game["g2"].winner or "")
    return {
        "win_rate_adjusted": OUTCOME_VALUE[outcome],
        "win_rate": float(outcome == "win"),
        "loss_rate": float(outcome == "loss"),
        "tie_rate": float(outcome == "tie"),
    }, None


def score_docs(
    spec: JudgeMetricSpec,
    docs: Sequence[JudgedDoc],
    judgments: Sequence[Judgment],
    refs: Mapping[str, _Ref],
    unjudged: Mapping[tuple[int, int], str],
) -> list[DocScore]:
    per_sample: dict[tuple[int, int], list[Judgment]] = {}
    for j in judgments:
        ref = refs[j.key]
        per_sample.setdefault((ref.doc, ref.sample), []).append(j)
    scores = []
    for d, doc in enumerate(docs):
        judged: list[dict[str, float]] = []
        failures: list[str] = []
        samples: list[dict[str, Any]] = []
        for s in range(len(doc.answers)):
            group = per_sample.get((d, s), [])
            values, failure = _sample_values(spec.mode, group) if group else (None, unjudged.get((d, s), "unknown"))
            if values is not None:
                judged.append(values)
            if failure is not None:
                failures.append(failure)
            samples.append({"values": values, "failure": failure, "judgments": [j.as_dict() for j in group]})
        mean = {k: sum(v[k] for v in judged) / len(judged) for k in LABELS[spec.mode]} if judged else {}
        scores.append(DocScore(mean, failures, {"mode": spec.mode, "samples": samples}))
    return scores


def judge_docs(
    judge: Judge, spec: JudgeMetricSpec, res: JudgeResources, docs: Sequence[JudgedDoc], *, task: str, show_progress: bool = True
) -> list[DocScore]:
    """Build every item of the batch, judge them in one go (cache first), score each document."""
    items, refs, unjudged = build_items(spec, res, docs, task=task)
    judgments = judge.judge(items, description=f"{task} judge", show_progress=show_progress) if items else []
    return score_docs(spec, docs, judgments, refs, unjudged)


class TaskJudge:
    """The run's judge as the `judge` metric sees it (metrics.judge.DocumentJudge): each
    spec's files read once, every document of a batch judged in one go."""

    def __init__(self, judge: Judge, *, spec: str = "", show_progress: bool = True) -> None:
        self.judge = judge
        #: the judge as given on the command line (BACKEND:NAME)
        self.spec = spec
        self.show_progress = show_progress
        self._resources: dict[str, JudgeResources] = {}

    def summary(self) -> dict[str, Any]:
        j = self.judge
        return {
            "spec": self.spec,
            **j.backend.identity.as_dict(),
            "config": asdict(j.config),
            "chat_template": not j.plain_fallback,
            "execution": asdict(j.stats),
            # the judge prompts, baselines and references the judged tasks used (checksummed)
            "files": {
                str(f.path): {"sha256": f.sha256, "origin": f.origin}
                for res in self._resources.values()
                for f in res.files.values()
            },
        }

    def resources(self, spec: JudgeMetricSpec, *, task: str) -> JudgeResources:
        key = spec.model_dump_json()
        if key not in self._resources:
            self._resources[key] = load_resources(spec, task=task)
        return self._resources[key]

    def check(self, spec: JudgeMetricSpec, *, task: str) -> None:
        self.resources(spec, task=task)

    def score(self, spec: JudgeMetricSpec, items: Sequence[ScoreInput]) -> list[SampleScore]:
        task = items[0].task if items else "judge"
        docs = [JudgedDoc(f"{i.task}/{i.doc_id}", i.doc, list(i.outputs)) for i in items]
        scores = judge_docs(self.judge, spec, self.resources(spec, task=task), docs, task=task, show_progress=self.show_progress)
        return [SampleScore(s.values, {**s.details, "failure": s.failure, "failures": s.failures}) for s in scores]

"""`hf: --model-args batch_size=auto` (lm-eval users' habit): the largest batch that fits, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyoka.core.types import LoglikelihoodRequest
from hyoka.errors import ModelSpecError


def test_batch_size_accepts_auto_and_rejects_nonsense() -> None:
    from hyoka.models.args import validate_args
    from hyoka.models.hf import HFArgs

    assert validate_args(HFArgs, {"batch_size": "auto"}, source="--model-args").batch_size == "auto"
    assert validate_args(HFArgs, {"batch_size": "4"}, source="--model-args").batch_size == 4
    with pytest.raises(ModelSpecError, match=r"--model-args batch_size: must be an integer .*or 'auto' \(got 'big'\)"):
        validate_args(HFArgs, {"batch_size": "big"}, source="--model-args")


@pytest.mark.slow
def test_auto_batch_scores_like_batch_one_and_halves_on_out_of_memory(gemma_hf_folder: Path) -> None:
    torch = pytest.importorskip("torch")
    from hyoka.models.hf import AUTO_BATCH_START, HFBackend

    backend = HFBackend(str(gemma_hf_folder), {"batch_size": "auto"})
    requests = [
        LoglikelihoodRequest(f"質問: {q}\n答え:", f" {a}")
        for q in ("日本の首都は?", "1+1は?", "空の色は?")
        for a in ("東京", "二", "青")
    ]
    auto = backend.loglikelihood(requests)
    assert backend.batch_size == AUTO_BATCH_START  # it fitted: kept
    # a real allocation failure of torch (what a too-large batch raises) halves the batch
    try:
        torch.empty(1 << 60, dtype=torch.uint8)
    except RuntimeError as exc:
        assert backend._shrink_batch(exc) and backend.batch_size == AUTO_BATCH_START // 2
    else:  # pragma: no cover - no machine has 1 EiB
        pytest.fail("expected an out-of-memory error")
    assert not backend._shrink_batch(ValueError("not memory"))  # other errors are not swallowed
    backend.batch_size, backend._auto_batch = 1, False
    one = backend.loglikelihood(requests)
    assert [round(r.logprob, 4) for r in auto] == [round(r.logprob, 4) for r in one]
    backend.close()

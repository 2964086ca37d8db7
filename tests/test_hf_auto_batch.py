"""`hf: --model-args batch_size=auto` (lm-eval users' habit): the largest batch that fits, not a
traceback. A real run with it: tests/test_backend_agreement.py (hf against llama.cpp)."""

from __future__ import annotations

import pytest

from hyoka.errors import ModelSpecError


def test_batch_size_accepts_auto_and_rejects_nonsense() -> None:
    from hyoka.models.args import validate_args
    from hyoka.models.hf import HFArgs

    assert validate_args(HFArgs, {"batch_size": "auto"}, source="--model-args").batch_size == "auto"
    assert validate_args(HFArgs, {"batch_size": "4"}, source="--model-args").batch_size == 4
    with pytest.raises(ModelSpecError, match=r"--model-args batch_size: must be an integer .*or 'auto' \(got 'big'\)"):
        validate_args(HFArgs, {"batch_size": "big"}, source="--model-args")


def test_auto_batch_halves_on_a_real_out_of_memory_error() -> None:
    torch = pytest.importorskip("torch")
    from hyoka.models.hf import AUTO_BATCH_START, HFBackend

    # the batch policy alone (loading a model adds nothing to what is checked here)
    backend = HFBackend.__new__(HFBackend)
    backend.torch, backend._auto_batch, backend.batch_size = torch, True, AUTO_BATCH_START
    try:
        torch.empty(1 << 60, dtype=torch.uint8)  # what a too-large batch raises: torch's allocator failing
    except RuntimeError as exc:
        oom = exc
    else:  # pragma: no cover - no machine has 1 EiB
        pytest.fail("expected an out-of-memory error")
    assert backend._shrink_batch(oom) and backend.batch_size == AUTO_BATCH_START // 2
    assert not backend._shrink_batch(ValueError("not memory"))  # other errors are not swallowed
    backend.batch_size = 1
    assert not backend._shrink_batch(oom)  # one context does not fit: the error stands
    backend.batch_size, backend._auto_batch = 8, False
    assert not backend._shrink_batch(oom)  # a batch size the user chose is kept

"""User-facing errors (kept importable here; they live in the ground floor, hyoka.core.errors)."""

from hyoka.core.errors import (
    BackendUnavailable,
    DatasetError,
    GenerationParamsError,
    HyokaError,
    ModelSpecError,
    TaskConfigError,
)

__all__ = [
    "BackendUnavailable",
    "DatasetError",
    "GenerationParamsError",
    "HyokaError",
    "ModelSpecError",
    "TaskConfigError",
]

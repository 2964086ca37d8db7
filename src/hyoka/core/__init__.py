"""hyoka's ground floor: the typed data every layer exchanges (types), the reasoning split
(reasoning) and the user-facing errors (errors). Nothing here imports from the rest of hyoka."""

from hyoka.core.types import (
    GenerateRequest,
    GenerateResult,
    GenerationParams,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    Message,
    ModelIdentity,
    Request,
    RequestOrigin,
    Result,
    result_from_json,
    result_to_json,
    sha256_file,
    sha256_text,
    stable_json,
)

__all__ = [
    "GenerateRequest",
    "GenerateResult",
    "GenerationParams",
    "LoglikelihoodRequest",
    "LoglikelihoodResult",
    "Message",
    "ModelIdentity",
    "Request",
    "RequestOrigin",
    "Result",
    "result_from_json",
    "result_to_json",
    "sha256_file",
    "sha256_text",
    "stable_json",
]

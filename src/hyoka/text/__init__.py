"""Text: normalisation and answer extraction. Importing the package registers every extractor."""

from hyoka.text import answer_span as _answer_span  # noqa: F401  (registration: "answer_span")

"""Text: answer extraction (an extractor registry), normalisation, reasoning spans."""

# Swallow-style answer spans register their extractors in hyoka.text.extract's registry;
# importing them here (not from extract.py) keeps the two modules free of a cycle
from hyoka.text import answer_span as _answer_span  # noqa: F401  (registration)

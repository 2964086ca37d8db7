"""Answer text: normalisation, extractors.

Importing the package registers every built-in extractor, including the Swallow-style
answer spans, which live in their own module on top of hyoka.text.extract.
"""

from hyoka.text import answer_span as _answer_span  # noqa: F401  (registration)

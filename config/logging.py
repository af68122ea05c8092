"""Keep personal data out of log lines.

`PersonalDataFilter` sits on the root handler (settings.LOGGING): it formats each record's
message with its args, masks what could identify a person or unlock an account, and
leaves ordinary text as it was. Exception text is masked too (exception messages often
quote the value that failed).
"""

import logging
import re

# Order matters: tokens and keys before emails and digit runs, so a key that contains
# digits is masked as a key.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # JSON Web Tokens: three base64url segments, the first a JSON header ("eyJ").
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[jwt]"),
    # Authorization header values.
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{16,}"), r"\1\2[token]"),
    # Brand keys: secret server keys and publishable widget keys.
    (re.compile(r"\b(sk|pk)_[A-Za-z0-9_-]{6,}"), r"\1_[key]"),
    # key=value secrets in query strings and form dumps.
    (
        re.compile(
            r"(?i)\b(password|passwd|secret|api[_-]?key|access[_-]?token|token|otp)"
            r"(=|:\s*)([^\s&,;\"']+)"
        ),
        r"\1\2[redacted]",
    ),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "[email]"),
    # Card-like runs: 13 to 19 digits, optionally grouped by spaces or dashes.
    (re.compile(r"(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d])"), "[number]"),
)


def mask(text: str) -> str:
    """`text` with emails, tokens, keys and card-like digit runs replaced by placeholders."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class PersonalDataFilter(logging.Filter):
    """Masks personal data in the formatted message and exception text of every record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw template, masked
            message = str(record.msg)
        record.msg = mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True

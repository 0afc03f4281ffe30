"""Text from the database (or the broker) made safe for one log line.

A ``pro_email`` or a cottage name holding CR/LF would otherwise start a
forged line in the log (``...\\n2030-01-01 INFO proprio 1: sent``).  Every
log line that carries such text passes it through :func:`one_line`.
"""

# Long enough for any real value, short enough that a field cannot flood
# the log.
MAX_LENGTH = 500

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char):
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def one_line(value, max_length=MAX_LENGTH):
    """``value`` as one printable line: line breaks and every other
    non-printable character (U+2028, ESC, ...) escaped, backslashes doubled
    so that an escape cannot be faked, cut at ``max_length`` characters."""
    text = value if isinstance(value, str) else str(value)
    escaped = "".join(_escape(char) for char in text)
    if len(escaped) > max_length:
        escaped = escaped[:max_length] + "..."
    return escaped

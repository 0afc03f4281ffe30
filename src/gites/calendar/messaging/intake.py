"""From a kombu message to a :class:`~gites.calendar.messaging.codec.HubBooking`
(:func:`pending_item`: to the consumer's batch item, with its booking or the
reason to park it).

The size limit comes first, before any decoding; then the codec (which
bounds pickles and dates itself).  Compressed bodies (kombu's
``compression`` header) are inflated by kombu before the consumer sees
them, so :func:`install_bounded_decompressors` replaces kombu's decoders by
ones that stop at the same limit: a 1 kB zlib bomb never becomes a gigabyte.
Compressions whose decoder cannot be bounded (brotli, zstd) are refused.
A body kombu could not inflate reaches the consumer's ``on_decode_error``
and is parked as it came.
"""

import bz2
import lzma
import zlib

from kombu import compression

from gites.calendar.domain.reservations import InvalidRange, check_range
from gites.calendar.messaging.batch import Pending
from gites.calendar.messaging.codec import InvalidMessage, decode_hub_message
from gites.calendar.messaging.parking import raw_body
from gites.calendar.messaging.retry import one_line

DEFAULT_MAX_BYTES = 64 * 1024  # real hub messages are a few hundred bytes

_limit = {"bytes": DEFAULT_MAX_BYTES}


class BodyTooLarge(ValueError):
    pass


def _bounded(make_decompressor):
    def decode(body):
        limit = _limit["bytes"]
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogateescape")
        decompressor = make_decompressor()
        out = decompressor.decompress(body, limit + 1)
        if len(out) > limit:
            raise BodyTooLarge(f"body inflates to more than {limit} bytes")
        if not decompressor.eof:
            raise ValueError("compressed body is truncated")
        return out

    return decode


def _refuse(name):
    def decode(body):
        raise ValueError(f"{name} compression is not accepted (its size cannot be bounded)")

    return decode


_DECODERS = {
    "application/x-gzip": _bounded(zlib.decompressobj),
    "application/x-bz2": _bounded(bz2.BZ2Decompressor),
    "application/x-lzma": _bounded(lzma.LZMADecompressor),
    "application/x-brotli": _refuse("brotli"),
    "application/zstd": _refuse("zstd"),
}


def install_bounded_decompressors(max_bytes=DEFAULT_MAX_BYTES):
    """Make kombu inflate at most ``max_bytes`` per body (process-wide)."""
    _limit["bytes"] = max_bytes
    for content_type, decoder in _DECODERS.items():
        # kombu's public register() sets encoder and decoder together: keep
        # the encoder kombu has (publishing is unchanged), replace the decoder.
        encoder = _ENCODERS.get(content_type, _refuse(content_type))
        compression.register(encoder, decoder, content_type)


# kombu's own encoders, by content type, read once through its public API.
_ENCODERS = {
    content_type: compression.get_encoder(alias)[0]
    for alias, content_type in (
        ("zlib", "application/x-gzip"),
        ("bzip2", "application/x-bz2"),
        ("lzma", "application/x-lzma"),
    )
}


def read_hub_message(message, max_bytes=DEFAULT_MAX_BYTES, max_pickle_ops=None):
    """Decode and validate ``message``'s body; InvalidMessage for anything wrong."""
    body = raw_body(message)
    if not isinstance(body, bytes):
        raise InvalidMessage(f"message body is {type(body).__name__}, not bytes")
    if len(body) > max_bytes:
        raise InvalidMessage(f"message body of {len(body)} bytes is over the {max_bytes} limit")
    return decode_hub_message(
        body,
        message.content_type,
        content_encoding=message.content_encoding,
        max_pickle_ops=max_pickle_ops,
    )


def reason_of(error):
    """The parking reason for an exception raised by one message."""
    if isinstance(error, (InvalidMessage, InvalidRange)):
        return str(error)
    return f"undecodable: {one_line(error)}"


def pending_item(message, max_bytes=DEFAULT_MAX_BYTES, max_pickle_ops=None):
    """``message`` as a batch item: its booking, or its reason to park."""
    try:
        booking = read_hub_message(message, max_bytes, max_pickle_ops)
        check_range(booking.start, booking.end, booking.res_type)
        return Pending(message, booking=booking)
    except Exception as error:  # the one rule: whatever fails parks this message
        return Pending(message, reason=reason_of(error))

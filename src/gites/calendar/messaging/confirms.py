"""Publisher confirms for a window of publishes, not one at a time.

kombu's ``confirm_publish`` waits for the broker's confirm of each message
before the next publish: one network round trip per message.  RabbitMQ's
recommended alternative (publisher confirms, "publishing messages in
batches") is used here: the channel is put in confirm mode once, the broker
numbers the channel's publishes 1, 2, 3, ... and answers ``basic.ack`` /
``basic.nack`` for a number, or for every number up to it (``multiple``);
:meth:`ConfirmWindow.wait` reads the connection until every publish made so
far is settled.  Nothing is confirmed that the broker did not confirm.

Only for py-amqp channels (AMQP 0-9-1); the embedded transport stores a
message before ``publish`` returns and needs none of this.
"""

import time


class ConfirmTimeout(TimeoutError):
    """Some publishes were neither acked nor nacked in time."""


class ConfirmWindow:
    def __init__(self, connection, channel):
        """``connection``: the kombu connection of ``channel`` (drained here)."""
        self.connection = connection
        self.published = 0  # the broker's number of the last publish
        self.unsettled = set()
        self.acked = set()
        self.nacked = set()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)

    def sent(self):
        """Call after each publish on the channel; returns its number."""
        self.published += 1
        self.unsettled.add(self.published)
        return self.published

    def _settle(self, into, tag, multiple):
        tags = {t for t in self.unsettled if t <= tag} if multiple else {tag} & self.unsettled
        self.unsettled -= tags
        into |= tags

    def _on_ack(self, delivery_tag, multiple):
        self._settle(self.acked, delivery_tag, multiple)

    def _on_nack(self, delivery_tag, multiple):
        self._settle(self.nacked, delivery_tag, multiple)

    def wait(self, timeout):
        """Read the connection until every publish is settled.

        Raises :class:`ConfirmTimeout` after ``timeout`` seconds, and the
        connection's errors when it fails; :meth:`is_acked` then still tells
        which publishes the broker confirmed before that.
        """
        deadline = time.monotonic() + timeout
        while self.unsettled:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConfirmTimeout(
                    f"{len(self.unsettled)} publish(es) not confirmed within {timeout} s"
                )
            try:
                self.connection.drain_events(timeout=left)
            except TimeoutError:
                continue  # the loop raises ConfirmTimeout

    def is_acked(self, number):
        return number in self.acked

    def forget(self):
        """Drop what is settled (call between windows)."""
        self.acked.clear()
        self.nacked.clear()

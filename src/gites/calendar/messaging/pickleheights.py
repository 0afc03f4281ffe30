"""The unpickler's stack simulated as nesting heights, for the opcode scan of
:mod:`gites.calendar.messaging.safepickle` (no object is built)."""


class Heights:
    """The unpickler's stack as nesting heights (0 scalar, 1 empty container).

    Lets the scan refuse a deep pickle before anything is built.  Only a
    first filter: a memoized container appended to later keeps its old
    height here, so :func:`_check_plain` does the exact check on the result.
    Lenient with broken stacks: the unpickler reports those."""

    def __init__(self, max_depth, error):
        self.max_depth, self.error = max_depth, error  # the limit, and what to raise
        self.stack, self.marks, self.memo = [], [], {}

    def pop(self):
        return self.stack.pop() if self.stack else 0

    def pop_mark(self):
        mark = self.marks.pop() if self.marks else 0
        items, self.stack[mark:] = self.stack[mark:], []
        return items

    def grow(self, height):
        """The container on top now holds something ``height`` high."""
        if self.stack:
            self.stack[-1] = max(self.stack[-1], height + 1)
            if self.stack[-1] > self.max_depth:
                raise self.error(f"pickle data nested deeper than {self.max_depth} levels")

    def push(self, height):
        if height > self.max_depth:
            raise self.error(f"pickle data nested deeper than {self.max_depth} levels")
        self.stack.append(height)

    def step(self, name, index):
        if name in _EMPTY_CONTAINERS:
            self.push(1)
        elif name == "MARK":
            self.marks.append(len(self.stack))
        elif name in ("LIST", "DICT", "TUPLE"):
            self.push(1 + max(self.pop_mark(), default=0))
        elif name in _SMALL_TUPLES:
            self.push(1 + max((self.pop() for _ in range(_SMALL_TUPLES[name])), default=0))
        elif name == "APPEND":
            self.grow(self.pop())
        elif name == "SETITEM":
            self.grow(max(self.pop(), self.pop()))
        elif name in ("APPENDS", "SETITEMS"):
            self.grow(max(self.pop_mark(), default=0))
        elif name == "POP":
            self.pop()
        elif name == "POP_MARK":
            self.pop_mark()
        elif name == "DUP":
            self.push(self.stack[-1] if self.stack else 0)
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            self.memo[index] = self.stack[-1] if self.stack else 0
        elif name == "MEMOIZE":
            self.memo[len(self.memo)] = self.stack[-1] if self.stack else 0
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            self.push(self.memo.get(index, 0))
        elif name in ("REDUCE", "STACK_GLOBAL"):  # an allowed global named or called: a scalar
            self.pop()
            self.pop()
            self.push(0)
        elif name not in _NO_STACK_EFFECT:
            self.push(0)  # every other opcode pushes one scalar


_EMPTY_CONTAINERS = frozenset({"EMPTY_LIST", "EMPTY_DICT", "EMPTY_TUPLE"})
_SMALL_TUPLES = {"TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}
_NO_STACK_EFFECT = frozenset({"PROTO", "FRAME", "STOP"})

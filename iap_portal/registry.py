"""How a lower layer learns about a higher one without importing it.

A lower app declares a ``Hook`` (one provider) or a ``Registry`` (many); the higher app fills it
in its ``AppConfig.ready()``. The import graph stays one-way (docs/architecture.md).
"""


class Hook:
    """One function that a higher layer provides; ``default`` answers until it does."""

    def __init__(self, name, default=None):
        self.name = name
        self._default = default
        self._function = None

    def register(self, function):
        self._function = function
        return function

    def __call__(self, *args, **kwargs):
        function = self._function or self._default
        if function is None:
            raise LookupError(f"Nothing is registered for the hook {self.name!r}.")
        return function(*args, **kwargs)


class Registry:
    """Named entries that higher layers add (exports, pupil page sections, …)."""

    def __init__(self, name):
        self.name = name
        self._entries = {}

    def register(self, key):
        def decorator(function):
            self._entries[key] = function
            return function

        return decorator

    def __getitem__(self, key):
        return self._entries[key]

    def values(self):
        return list(self._entries.values())

    def items(self):
        return list(self._entries.items())

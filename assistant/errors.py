"""Errors whose message is meant for the user (in Chinese).

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``;
anything else is a bug and keeps its traceback.
"""


class AssistantError(Exception):
    exit_code = 2


class InputError(AssistantError):
    """The user's input (a question, a path, an option) cannot be used."""

    exit_code = 2


class IndexProblem(AssistantError):
    """The index on disk is missing, stale or corrupt."""

    exit_code = 3


class StoreUnavailable(AssistantError):
    """The shared case library (a Milvus server) cannot be reached right now."""

    exit_code = 4

"""The error taxonomy every consumer maps in one place (shared.broker)."""


class CarelineError(Exception):
    """Base of Careline's own errors."""


class RetryableError(CarelineError):
    """A transient failure (a server away, a timeout): redeliver later, up to max_deliver."""


class PermanentError(CarelineError):
    """The message can never be processed as it is: dead-letter it at once with the reason."""

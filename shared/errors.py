"""The error taxonomy every consumer maps in one place (shared.broker)."""

from pydantic import ValidationError


class CarelineError(Exception):
    """Base of Careline's own errors."""


class RetryableError(CarelineError):
    """A transient failure (a server away, a timeout): redeliver later, up to max_deliver."""


class PermanentError(CarelineError):
    """The message can never be processed as it is: dead-letter it at once with the reason."""


def validation_problems(exc: ValidationError, whole: str = "payload") -> list[str]:
    """`field.path: message` per problem of a failed validation; `whole` names the root."""
    return [
        f"{'.'.join(str(p) for p in err['loc']) or whole}: {err['msg']}" for err in exc.errors()
    ]

"""Errors a person can do something about; chat adapters show their message as it is."""

from __future__ import annotations

from chatops.domain.types import Draft


class ChatOpsError(Exception):
    """Base for errors whose message is written for the person in chat."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class IllegalTransition(ChatOpsError):
    """A draft was asked to move in a way the state machine does not allow."""


class NotAllowed(ChatOpsError):
    """The actor lacks the role or the relation to the draft that the action needs."""


class OutdatedCard(NotAllowed):
    """An approval from a card (or command) showing an older revision than the draft's own.

    Nothing was approved: the person saw text that is no longer the draft's. `draft` is the
    draft as it is now, so each adapter can show its current card; `seen` is the revision
    the approver saw (0 for a button from before buttons carried revisions).
    """

    def __init__(self, draft: Draft, seen: int) -> None:
        shown = f"revision {seen}" if seen else "an older version"
        super().__init__(
            f"Draft {draft.id} changed since that card was shown (you saw {shown}; it is now "
            f"revision {draft.revision}), so I did not approve it.",
            hint="Here is the current version: approve it if it is right.",
        )
        self.draft = draft
        self.seen = seen


class EditedMeanwhile(NotAllowed):
    """An edit begun from an older revision than the draft's own: saving it would silently
    overwrite someone's later change. Nothing was saved; the person's text is quoted back so
    it is not lost."""

    def __init__(self, draft: Draft, seen: int, text: str) -> None:
        shown = text if len(text) <= EDIT_ECHO else text[: EDIT_ECHO - 1] + "…"
        super().__init__(
            f"Draft {draft.id} changed after you began editing it (you started from revision "
            f"{seen}; it is now revision {draft.revision}), so I did not save your text: "
            f"“{shown}”",
            hint="Edit the current draft again (its card shows it) or copy your text from here.",
        )
        self.draft = draft
        self.seen = seen


EDIT_ECHO = 600
"""How much of a refused edit's text is quoted back; enough to recover a post's text."""


class NotFound(ChatOpsError):
    """A draft, mention or subscription id that does not exist."""


class InvalidInput(ChatOpsError):
    """Arguments that do not parse; the hint shows a correct example."""


class PublishError(Exception):
    """A network refused or failed a publication.

    `ambiguous` means the request may have reached the network (a timeout after sending),
    so the post must be looked for before any retry.
    """

    def __init__(self, message: str, *, retryable: bool, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.ambiguous = ambiguous


class ChannelUnavailable(ChatOpsError):
    """The bot cannot post in a channel (removed from it, or the channel was archived)."""

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(
            f"I cannot post in this channel ({reason}).",
            hint="Invite me to the channel (for example `/invite @chatops`) and try again.",
        )
        self.channel = channel
        self.reason = reason


class CredentialRejected(Exception):
    """A network refused a credential (401/403): retrying will not help; an admin must fix it.

    `credential` names the setting to check, e.g. `X_BEARER_TOKEN`.
    """

    def __init__(self, credential: str, detail: str) -> None:
        super().__init__(f"{credential} was refused: {detail}")
        self.credential = credential
        self.detail = detail

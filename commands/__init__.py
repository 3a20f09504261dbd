"""Command handlers, written once and served on every chat platform."""

from __future__ import annotations

from chatops.chat.interaction import Invocation, Reply
from commands import (
    accounts,
    admin,
    alerts,
    contacts,
    desk,
    drafting,
    listening,
    social,
    targets,
)
from commands.registry import CommandContext, CommandRegistry, Verb


def build_registry() -> CommandRegistry:
    """Every verb, listed explicitly; `/social help` is generated from the same list."""
    verbs = [
        *drafting.VERBS,
        *social.VERBS,
        *targets.VERBS,
        *accounts.VERBS,
        *admin.VERBS,
        *listening.VERBS,
        *contacts.VERBS,
        *alerts.VERBS,
    ]
    verbs += desk.VERBS

    async def help_(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
        registry = CommandRegistry(verbs)
        lines = registry.help_lines()
        reactions = ", ".join(f":{name}:" for name in ctx.core.approval_reactions)
        lines.append(f"Reacting with {reactions} on a draft card approves it, like the button.")
        return [Reply("What I can do:", lines=tuple(lines))]

    verbs.append(
        Verb("social", "help", "/social help", "Every verb with an example.", "/social help", help_)
    )
    return CommandRegistry(verbs)


__all__ = ["CommandContext", "CommandRegistry", "build_registry"]

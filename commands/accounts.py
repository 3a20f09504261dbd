"""`/social accounts`: every account the bot may publish from, and whether it can.

Anyone in the workspace may look: it shows handles and setting names, never a secret,
and tells an author which `--to` names an account before they need it.
"""

from __future__ import annotations

from chatops.chat.interaction import Invocation, Reply
from chatops.domain.accounts import AccountHealth
from commands.registry import CommandContext, Verb


async def accounts(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    workflow = ctx.core.workflow
    healths = workflow.networks.health()
    if not healths:
        return [
            Reply(
                "I am not connected to any account yet.",
                lines=("An admin can run `chatops doctor` to see which setting is missing.",),
            )
        ]
    networks = workflow.networks
    lines = tuple(
        _line(
            health,
            workflow.required_approvals,
            target=networks.account(health.account.network, health.account.handle) is not None,
        )
        for health in healths
    )
    return [Reply(f"{len(healths)} account(s):", lines=lines)]


def _line(health: AccountHealth, agency_default: int, *, target: bool) -> str:
    """`X @PortAlderPD · --to x:@PortAlderPD · 2 approvals · can read · cannot publish: ...`"""
    account = health.account
    who = f"@{account.handle}" if account.handle else "(handle not known yet)"
    parts = [f"{account.label} {who}"]
    if target:
        parts.append(f"--to {account.key}")
    if account.default:
        parts.append("default")
    approvals = account.required_approvals or agency_default
    parts.append(f"{approvals} approval{'s' if approvals != 1 else ''} needed")
    parts += [word for able, word in _abilities(health) if able]
    if health.problem:
        parts.append(health.problem)
    else:
        parts += [f"cannot {word[4:]}" for able, word in _abilities(health) if not able]
    return " · ".join(parts)


def _abilities(health: AccountHealth) -> list[tuple[bool, str]]:
    return [(health.can_read, "can read"), (health.can_publish, "can publish")]


VERBS = [
    Verb(
        "social",
        "accounts",
        "/social accounts",
        "Every account I can publish from, its `--to` name, and what is wrong when it cannot.",
        "/social accounts",
        accounts,
    ),
]

"""`/social roles` and `/social audit`: who may do what, and what was done."""

from __future__ import annotations

from chatops.chat.interaction import Invocation, Reply
from chatops.domain.errors import InvalidInput
from chatops.domain.types import Role
from chatops.drafts.scheduling import format_local, parse_since
from chatops.storage.audit import AuditLog
from commands.parsing import take_options, take_word
from commands.registry import CommandContext, Verb

ROLES_EXAMPLE = "/social roles grant bob approver"
AUDIT_LIMIT = 20


async def roles(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    action, rest = take_word(args)
    if not action:
        return [await _listing(ctx, invocation)]
    if action.lower() not in ("grant", "revoke"):
        raise InvalidInput(
            f"I don't know `/social roles {action}`.", hint=f"Example: `{ROLES_EXAMPLE}`"
        )
    user, rest = take_word(rest)
    role_name, _ = take_word(rest)
    if not user or not role_name:
        raise InvalidInput(
            f"`/social roles {action}` needs a user and a role.", hint=f"Example: `{ROLES_EXAMPLE}`"
        )
    try:
        role = Role(role_name.lower())
    except ValueError:
        known = " or ".join(r.value for r in Role)
        raise InvalidInput(
            f"{role_name!r} is not a role.", hint=f"Roles: {known}. Example: `{ROLES_EXAMPLE}`"
        ) from None
    user_id = user.lstrip("@")
    if action.lower() == "grant":
        changed = await ctx.core.roles.grant(invocation.actor, user_id, role)
        text = (
            f"{user_id} is now {role.value}." if changed else f"{user_id} already was {role.value}."
        )
    else:
        changed = await ctx.core.roles.revoke(invocation.actor, user_id, role)
        if changed:
            text = f"{user_id} is no longer {role.value}."
        elif (role is Role.ADMIN and user_id in ctx.core.role_policy.admins) or (
            role is Role.APPROVER and user_id in ctx.core.role_policy.approvers
        ):
            setting = "CHATOPS_ADMINS" if role is Role.ADMIN else "CHATOPS_APPROVERS"
            text = f"{user_id} is {role.value} through {setting}; change that setting to remove it."
        else:
            text = f"{user_id} did not have the {role.value} role."
    return [Reply(text, ephemeral=False)]


async def _listing(ctx: CommandContext, invocation: Invocation) -> Reply:
    rows = await ctx.core.roles.listing(invocation.actor)
    mine = sorted(r.value for r in await ctx.core.roles.roles_of(invocation.actor))
    lines = [f"{user}: {role.value} ({source})" for user, role, source in rows]
    if invocation.actor.platform in ctx.core.role_policy.open_platforms:
        lines.append(_open_console(ctx))
    lines.append(f"You ({invocation.actor.user_id}): {', '.join(mine) or 'drafter'}.")
    return Reply("Anyone here may draft. Roles:", lines=tuple(lines))


def _open_console(ctx: CommandContext) -> str:
    """What the console's open roles are with the settings as they are, not as they might be."""
    policy = ctx.core.role_policy
    if policy.approvers:
        return (
            "CHATOPS_APPROVERS is set, so on this console only the approvers and admins "
            "listed here may approve."
        )
    if policy.admins:
        return (
            "On this console every user may approve (never their own draft), because "
            "CHATOPS_APPROVERS is not set."
        )
    return (
        "On this console every user may approve (never their own draft) and administer, "
        "because neither CHATOPS_APPROVERS nor CHATOPS_ADMINS is set."
    )


async def audit(ctx: CommandContext, invocation: Invocation, args: str) -> list[Reply]:
    options, rest = take_options(
        args, {"--since": '`--since "yesterday"`'}, '`/social audit --since "2 days ago"`'
    )
    if rest:
        raise InvalidInput(
            f"I did not expect {rest!r}.", hint='Example: `/social audit --since "yesterday"`'
        )
    since = None
    if "--since" in options:
        since = parse_since(options["--since"], now=ctx.core.clock.now(), zone=ctx.core.zone)
    async with ctx.core.db.transaction() as session:
        events = await AuditLog(session).events(
            since=since,
            newest_first=True,
            limit=AUDIT_LIMIT,
            workspace=invocation.actor.workspace,
        )
    if not events:
        return [Reply("No recorded decisions" + (" in that period." if since else " yet."))]
    lines = []
    for event in reversed(events):
        subject = f" draft {event.draft_id}" if event.draft_id is not None else ""
        extra = ""
        for key in ("reason", "via", "url", "rule", "role", "user", "error"):
            if event.details.get(key):
                extra += f" {key}={event.details[key]}"
        lines.append(
            f"{format_local(event.at, ctx.core.zone)}  {event.actor} ({event.platform})  "
            f"{event.action}{subject}{extra}"
        )
    footer = "The full record of every workspace: `chatops audit export --format csv`."
    return [Reply(f"The last {len(events)} recorded decisions:", lines=(*lines, footer))]


VERBS = [
    Verb(
        "social",
        "roles",
        "/social roles [grant|revoke USER ROLE]",
        "Who may approve and administer; admins grant and revoke.",
        ROLES_EXAMPLE,
        roles,
    ),
    Verb(
        "social",
        "audit",
        "/social audit [--since WHEN]",
        "Recent decisions on drafts and settings.",
        '/social audit --since "yesterday"',
        audit,
    ),
]

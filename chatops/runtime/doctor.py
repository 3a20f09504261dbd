"""`chatops doctor`: plain answers to "why isn't it working?" for an admin."""

from __future__ import annotations

from chatops.domain.accounts import Account
from chatops.runtime.account_settings import ADAPTED, unadapted
from chatops.runtime.settings import Settings
from chatops.storage.database import (
    Database,
    DatabaseUnreachable,
    head_revision,
    missing_sqlite_file,
)

Check = tuple[bool, str]


async def diagnose(settings: Settings) -> list[Check]:
    results: list[Check] = [(True, f"time zone {settings.timezone}")]
    results += await _database(settings)
    results += _network(settings)
    results += _chat(settings)
    return results


async def _database(settings: Settings) -> list[Check]:
    where = settings.database_url_for_display()
    try:
        db = Database(settings.database_url)
    except Exception as error:
        return [
            (
                False,
                f"DATABASE_URL {where} is not usable ({type(error).__name__}); use "
                "sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER:PASSWORD@HOST/DB",
            )
        ]
    missing = missing_sqlite_file(settings.database_url)
    if missing is not None:
        await db.dispose()
        return [
            (
                False,
                f"database file {missing} does not exist yet: create it with "
                "`chatops db upgrade` (`chatops console` also creates it)",
            )
        ]
    try:
        await db.ping()
        current = await db.current_revision()
    except DatabaseUnreachable as error:
        return [(False, f"database {where} is unreachable: {error}")]
    except Exception as error:
        return [(False, f"database {where} is unreachable: {type(error).__name__}")]
    finally:
        await db.dispose()
    head = head_revision()
    if current != head:
        shown = current or "empty"
        return [
            (True, f"database {where} answers"),
            (False, f"schema is at {shown}, code needs {head}: run `chatops db upgrade`"),
        ]
    return [(True, f"database {where} answers, schema up to date ({head})")]


def _network(settings: Settings) -> list[Check]:
    """Which accounts are configured; each X account's keys are then tried by the X
    adapter's own checks."""
    if settings.uses_sandbox:
        why = "CHATOPS_SANDBOX=true" if settings.sandbox else "no X account is configured"
        return [(True, f"social network: sandbox ({why}); posts stay on this machine")]
    results: list[Check] = [
        (False, f"{health.account.label} account {_named(health.account)}: {health.problem}")
        for health in unadapted(settings.social_accounts)
    ]
    accounts = [spec for spec in settings.social_accounts if spec.network in ADAPTED]
    if accounts:
        names = ", ".join(f"{spec.name} ({spec.credentials}_*)" for spec in accounts)
        results.append((True, f"accounts configured: {names}"))
    return results


def _named(account: Account) -> str:
    return f"@{account.handle}" if account.handle else "(no handle)"


def _chat(settings: Settings) -> list[Check]:
    results: list[Check] = []
    if settings.slack_bot_token is None and settings.slack_client_id is None:
        results.append((True, "Slack: not configured (SLACK_BOT_TOKEN unset)"))
    elif settings.slack_signing_secret is None and settings.slack_app_token is None:
        results.append(
            (
                False,
                "Slack: SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP) "
                "nor SLACK_APP_TOKEN (Socket Mode) is set, so no Slack events arrive: set one",
            )
        )
    else:
        mode = "Socket Mode" if settings.slack_app_token else "HTTP events"
        results.append((True, f"Slack: configured for {mode}"))
    if settings.teams_app_id and not settings.teams_app_password:
        results.append((False, "Teams: TEAMS_APP_ID is set but TEAMS_APP_PASSWORD is not"))
    elif settings.teams_app_id:
        results.append((True, f"Teams: configured with an app id; {_teams_tenants(settings)}"))
    elif settings.teams_anonymous:
        results.append(
            (
                True,
                "Teams: anonymous local mode (TEAMS_ALLOW_ANONYMOUS=true, no app id); "
                "serve listens on 127.0.0.1 only",
            )
        )
    elif settings.teams_enabled:
        results.append((False, f"Teams: {settings.teams_identity_problem()}"))
    else:
        results.append((True, "Teams: not configured"))
    return results


def _teams_tenants(settings: Settings) -> str:
    """Which tenants the bot answers: an app any tenant may install is open to all of them."""
    if settings.teams_tenant_id:
        return f"only tenant {settings.teams_tenant_id} is accepted"
    if settings.workspaces:
        return "tenants limited by CHATOPS_WORKSPACES"
    return (
        "any tenant that installs the app is accepted (set TEAMS_TENANT_ID, or list tenants "
        "in CHATOPS_WORKSPACES, to limit it)"
    )

"""`chatops doctor` for Slack: reach the Web API with the configured tokens."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from chatops.runtime.settings import Settings

Check = tuple[bool, str]


async def check_slack(settings: Settings) -> list[Check]:
    results: list[Check] = []
    base = settings.slack_api_base_url
    if settings.slack_bot_token is not None:
        client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=base)
        try:
            answer = await client.auth_test()
            results.append(
                (
                    True,
                    f"Slack: SLACK_BOT_TOKEN works: workspace {answer.get('team')} "
                    f"({answer.get('team_id')}) as @{answer.get('user')}",
                )
            )
        except SlackApiError as error:
            results.append(
                (False, f"Slack: SLACK_BOT_TOKEN was refused ({_code(error)}); check it")
            )
        except OSError as error:
            results.append((False, f"Slack: cannot reach {base} ({type(error).__name__})"))
    if settings.slack_app_token is not None:
        client = AsyncWebClient(base_url=base)
        try:
            await client.apps_connections_open(
                app_token=settings.slack_app_token.get_secret_value()
            )
            results.append((True, "Slack: SLACK_APP_TOKEN can open a Socket Mode connection"))
        except SlackApiError as error:
            results.append(
                (
                    False,
                    f"Slack: SLACK_APP_TOKEN was refused ({_code(error)}); "
                    "it must be an app-level token with connections:write",
                )
            )
        except OSError as error:
            results.append((False, f"Slack: cannot reach {base} ({type(error).__name__})"))
    return results


def _code(error: SlackApiError) -> str:
    return str(error.response.get("error", "unknown error"))

"""How requests reach the bot: signatures, Socket Mode, and multi-workspace OAuth installs."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlencode, urlparse

from aiohttp.test_utils import TestClient, TestServer

from adapters.chat.web.app import build_web_app
from chatops.service import build_service
from chatops.storage.drafts import DraftStore
from tests.harness import make_settings
from tests.slack_harness import AUTHOR, CHANNEL, SIGNING_SECRET, eventually, signature

FORM = "application/x-www-form-urlencoded"


def post_form(fake) -> str:  # type: ignore[no-untyped-def]
    return urlencode(
        {
            "team_id": "T0001",
            "channel_id": CHANNEL,
            "user_id": AUTHOR,
            "user_name": "author",
            "command": "/post",
            "text": "Forged post",
            "response_url": fake.response_url("forged"),
            "trigger_id": "t.1",
        }
    )


async def no_drafts(slack) -> bool:  # type: ignore[no-untyped-def]
    async with slack.service.db.transaction() as session:
        return await DraftStore(session).row(1) is None


async def test_forged_signature_gets_401_and_changes_nothing(slack) -> None:
    response = await slack.post(post_form(slack.fake), FORM, secret="not-the-secret")
    assert response.status == 401
    assert await no_drafts(slack)
    assert [c for c in slack.fake.calls if c.method != "auth.test"] == []


async def test_stale_timestamp_gets_401_and_changes_nothing(slack) -> None:
    stale = str(int(time.time()) - 6 * 60)
    response = await slack.post(post_form(slack.fake), FORM, timestamp=stale)
    assert response.status == 401
    assert await no_drafts(slack)


async def test_missing_signature_gets_401(slack) -> None:
    response = await slack.client.post(
        "/slack/events", data=post_form(slack.fake), headers={"Content-Type": FORM}
    )
    assert response.status == 401
    assert await no_drafts(slack)


async def test_socket_mode_serves_commands_and_reconnects(fake_slack, database_url) -> None:
    settings = make_settings(
        database_url,
        slack_bot_token=fake_slack.bot_token,
        slack_app_token=fake_slack.app_token,
        slack_api_base_url=fake_slack.base_url,
    )
    service = build_service(settings)
    app = build_web_app(service)
    assert not any(
        r.resource and r.resource.canonical == "/slack/events" for r in app.router.routes()
    )
    await service.start_integrations()
    try:
        await fake_slack.wait_for_socket(1)
        await fake_slack.socket_send(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "team_id": "T0001",
                    "channel_id": CHANNEL,
                    "user_id": AUTHOR,
                    "user_name": "author",
                    "command": "/post",
                    "text": "Sandbags at Pier 3 until 8pm.",
                    "response_url": fake_slack.response_url("socket"),
                    "trigger_id": "t.2",
                },
            }
        )
        [ack] = await fake_slack.socket_acks(1)
        assert ack["envelope_id"] == "env-1"
        assert "/post Sandbags" in ack["payload"]["text"]

        async def drafted() -> bool:
            return (await service.core.workflow.queue()) != []

        await eventually(drafted)
        await fake_slack.socket_drop()
        await fake_slack.wait_for_socket(2, timeout=15)
    finally:
        await service.stop_integrations()
        await service.close()


async def test_oauth_install_stores_the_workspace_and_uses_its_token(
    fake_slack, database_url
) -> None:
    settings = make_settings(
        database_url,
        slack_client_id="111.222",
        slack_client_secret="oauth-client-secret",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_base_url=fake_slack.base_url,
    )
    service = build_service(settings)
    client = TestClient(TestServer(build_web_app(service)))
    await client.start_server()
    try:
        install = await client.get("/slack/install", allow_redirects=False)
        assert install.status in (200, 302)
        page = await install.text()
        location = (
            "https://slack.com/oauth"
            + page.split('href="https://slack.com/oauth', 1)[1].split('"', 1)[0]
        )
        state = parse_qs(urlparse(location.replace("&amp;", "&")).query)["state"][0]
        assert "client_id=111.222" in location.replace("&amp;", "&")

        # The state cookie is Secure; a browser on https sends it back with the redirect.
        cookie = {"Cookie": f"slack-app-oauth-state={state}"}
        done = await client.get(f"/slack/oauth_redirect?code=code-1&state={state}", headers=cookie)
        assert done.status == 200, await done.text()
        [exchange] = fake_slack.calls_to("oauth.v2.access")
        assert exchange.args["code"] == "code-1"
        token = service.slack.installations  # type: ignore[union-attr]
        bot = await token.async_find_bot(enterprise_id=None, team_id="T0002")
        assert bot is not None and bot.bot_token.startswith("xoxb-")

        body = urlencode(
            {
                "team_id": "T0002",
                "channel_id": "C0200",
                "user_id": "U0200SEC",
                "user_name": "second",
                "command": "/post",
                "text": "Hello from the second workspace",
                "response_url": fake_slack.response_url("second"),
                "trigger_id": "t.3",
            }
        )
        stamp = str(int(time.time()))
        response = await client.post(
            "/slack/events",
            data=body,
            headers={
                "Content-Type": FORM,
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature(body, stamp),
            },
        )
        assert response.status == 200, await response.text()
        [card] = await fake_slack.wait_for("chat.postMessage")
        assert card.token == bot.bot_token
        assert card.args["channel"] == "C0200"
        assert json.dumps(card.args["blocks"]).count("Hello from the second workspace") == 1
    finally:
        await client.close()
        await service.close()


async def test_doctor_reaches_slack_and_names_a_bad_token(fake_slack, tmp_path) -> None:
    import asyncio
    import os
    import subprocess
    import sys
    from pathlib import Path

    chatops = str(Path(sys.executable).with_name("chatops"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CHATOPS_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'doctor.db'}",
        SLACK_API_BASE_URL=fake_slack.base_url,
        SLACK_SIGNING_SECRET="s",
    )

    async def doctor(token: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [chatops, "doctor"],
            env={**env, "SLACK_BOT_TOKEN": token},
            capture_output=True,
            text=True,
        )

    await asyncio.to_thread(subprocess.run, [chatops, "db", "upgrade"], env=env, check=True)
    good = await doctor(fake_slack.bot_token)
    assert "ok    Slack: SLACK_BOT_TOKEN works: workspace" in good.stdout, good.stdout
    bad = await doctor("xoxb-wrong")
    assert bad.returncode == 1
    assert "FAIL  Slack: SLACK_BOT_TOKEN was refused (invalid_auth)" in bad.stdout
    assert "xoxb-wrong" not in bad.stdout + bad.stderr

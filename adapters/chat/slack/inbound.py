"""Checks on an inbound Slack request before bolt parses it.

bolt parses the body before its signature check and raises on some malformed bodies, so
a forged or broken request could become a 500. Here the signature is checked first (401),
then the body's shape (400); only then does bolt see it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier


def signed(verifier: SignatureVerifier, body: str, headers: Mapping[str, str]) -> bool:
    timestamp = next(
        (v for k, v in headers.items() if k.lower() == "x-slack-request-timestamp"), ""
    )
    if not (timestamp.isascii() and timestamp.isdecimal()):
        return False
    try:
        return verifier.is_valid_request(body, headers)
    except (ValueError, TypeError):
        return False


def malformed(body: str, content_type: str) -> str | None:
    """Why the body cannot be a Slack request; None when it is well formed."""
    if "json" in content_type:
        return _json_problem(body)
    form = parse_qs(body, keep_blank_values=True)
    if "payload" not in form:
        return None
    try:
        payload = json.loads(form["payload"][0])
    except ValueError:
        return "the interaction payload is not JSON"
    if not isinstance(payload, dict):
        return "the interaction payload is not a JSON object"
    return _interaction_problem(payload)


def _json_problem(body: str) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return "the body is not JSON"
    if not isinstance(data, dict):
        return "the body is not a JSON object"
    if data.get("type") == "event_callback" and not isinstance(data.get("event"), dict):
        return "the event callback has no event"
    return None


def _interaction_problem(payload: dict[str, Any]) -> str | None:
    for key in ("user", "team", "channel", "view", "container", "message"):
        if key in payload and payload[key] is not None and not isinstance(payload[key], dict):
            return f"the interaction's {key} is not an object"
    if payload.get("type") == "block_actions":
        actions = payload.get("actions")
        if (
            not isinstance(actions, list)
            or not actions
            or not all(isinstance(a, dict) for a in actions)
        ):
            return "the interaction has no actions"
    if payload.get("type") in ("view_submission", "view_closed") and not isinstance(
        payload.get("view"), dict
    ):
        return "the submission has no view"
    return None

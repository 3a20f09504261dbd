"""Slack: bolt's AsyncApp on the project's aiohttp app (or Socket Mode), translation only."""

"""The aiohttp application: health and metrics now, Slack and Teams routes as they arrive."""

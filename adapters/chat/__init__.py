"""Chat platforms behind the ChatPort: Slack, Teams, the console and the web dashboard."""

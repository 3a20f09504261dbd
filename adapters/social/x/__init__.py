"""X (Twitter) API v2 through tweepy's async client: listening and publishing exactly once."""

"""chatops: a chat-ops bot for public-sector communications teams."""

"""The sandbox social network: local publishing and a shipped demo feed, no accounts needed."""

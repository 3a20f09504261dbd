"""Adapters: translation between the core's types and each platform or network."""

"""Listening: pollers, scoring, rules, subscriptions, spikes, digests, the inbox and alerts."""

"""Drafts and publishing: workflow, per-network policy and compliance, scheduling, publisher."""

"""The runtime: settings, logs, clock, health, doctor and the background workers."""

"""The runtime: settings, logs, clock, health, doctor, workers and the core bundle for commands."""

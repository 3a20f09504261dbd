"""Domain types, errors and the draft state machine."""

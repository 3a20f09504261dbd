"""Access: roles and the one authorization check."""

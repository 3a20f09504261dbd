"""Microsoft Teams through the Microsoft 365 Agents SDK; every SDK import stays in this package."""

"""The console chat adapter: the chat platform in a terminal, and the scenario-test harness."""

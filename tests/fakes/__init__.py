"""In-process fakes of external services, speaking their real wire protocols.

They exist so tests can drive the real client libraries (not mocks of them) and still run
offline, fast and deterministically.
"""

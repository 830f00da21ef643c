"""Fact collection: transports (local, ssh) run one batched script per host and return raw facts."""

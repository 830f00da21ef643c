"""Compliance: check runs over collected facts, storage, re-scoring, waivers, attestations, scoring, drift."""

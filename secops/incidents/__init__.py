"""Incident response (Circular 20/2017, Decision 05/2017): lifecycle, playbooks, legal deadlines,
hash-chained timeline, evidence custody, observables, STIX export and metrics."""

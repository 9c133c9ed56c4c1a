"""Candidate search, evidence, identification, assignment, council decisions, next actions."""

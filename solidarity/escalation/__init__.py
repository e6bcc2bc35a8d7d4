"""Escalation on a clock kept in the database: waves, check-ins, directory freshness."""

"""Incidents: what happened to whom, what they need, who answered, and the timeline."""

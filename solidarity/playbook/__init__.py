"""The playbook: what to do for each kind of threat, step by step, versioned by coordinators."""

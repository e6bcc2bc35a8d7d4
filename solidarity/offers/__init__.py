"""The help member organisations offer: kind, coverage, languages and capacity."""

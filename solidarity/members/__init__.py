"""Member organisations, their people, vetting and sign-in."""

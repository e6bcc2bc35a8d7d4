"""Who to ask for help: the candidate query, scoring with reasons in words, and the wave policy."""

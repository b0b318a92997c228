"""Everything that runs outside Lambda: the local stack and the command line."""

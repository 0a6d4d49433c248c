"""The durable store: one SQLite database in the data dir, the source of truth for every task,
result, served file, pending delivery, fault rule and the simulated clock. What the emulator
keeps in memory is a cache of it, rebuilt at start."""

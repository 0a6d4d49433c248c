"""The live dashboard at ``/__admin/ui``: tasks, one task's timeline and results, the journal,
deliveries, fault rules, the simulated clock and charts, in the browser (see
docs/dashboard.md)."""

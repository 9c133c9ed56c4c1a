"""Stage modules; every asset and asset check defined at module level is loaded by pipelines.definitions."""

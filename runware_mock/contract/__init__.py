"""The Runware contract: JSON Schemas, validation into Runware-shaped errors, strategies."""

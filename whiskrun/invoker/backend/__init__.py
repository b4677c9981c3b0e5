"""Container engines behind one seam (base.ContainerBackend)."""

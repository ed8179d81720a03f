"""Scale benchmark of `kalc-formal check` (issue 3): synthetic clusters, timed per stage."""

"""The web layer: the app assembled from the API routes, the control API, the
docs, the tokens page and the middleware around them (faults, limits, the
response self-check)."""

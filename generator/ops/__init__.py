"""Operating a site: init, serve, validate, and pushing check results with git."""

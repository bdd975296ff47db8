"""Operating a site: init, serve, validate, and pushing check results with git."""

# Here rather than in gitsync, whose imports `heliograph build` would pay for to show `push --help`.
DEFAULT_MESSAGE = "Check results [skip ci]"

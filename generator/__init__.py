"""Heliograph: a static-site status page generator."""

__version__ = "0.1.0"

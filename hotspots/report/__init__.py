"""Printable pages and the wording of results (presentation layer)."""

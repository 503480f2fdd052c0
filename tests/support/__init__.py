"""Helpers shared by the test modules (one of each: see issue 11's test-helper consolidation)."""

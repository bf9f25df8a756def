"""Reliability and security tests (issue 6): faults, hostile input, serving while builds run."""

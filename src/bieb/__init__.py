"""Bieb: one open platform for the Dutch public library network."""

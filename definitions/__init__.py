"""Lifecycle definitions ship here as YAML data; this marker only lets them install as package data."""

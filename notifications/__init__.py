"""Reminder notifications: rendering, channels and the exactly-once delivery log."""

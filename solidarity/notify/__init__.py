"""Notifications: the outbox, the dispatcher, channels (SMS, email, log) and inbound replies."""

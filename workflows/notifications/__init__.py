"""Notifications: in-app messages with unread counts, an outbox of e-mails delivered by SMTP
with retries, and a daily digest of what is due."""

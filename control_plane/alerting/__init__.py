"""Alerts: channels (webhook, email) per tenant or for the platform, delivered once per dedup
key with retries, every attempt recorded. Budgets use it; so can any other alert source."""

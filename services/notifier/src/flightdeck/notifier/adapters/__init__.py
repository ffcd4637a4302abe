"""The senders: SMTP (aiosmtplib) and webhooks (httpx)."""

"""The notifier's rules, pure: channels, what each one is sent, signing, retries."""

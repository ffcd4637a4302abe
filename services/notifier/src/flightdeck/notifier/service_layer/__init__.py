"""Sending: the ports the adapters fill, and one delivery with its retries."""

"""Careline services; each is a separate process and imports only from shared."""

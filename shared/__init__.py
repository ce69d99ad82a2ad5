"""Careline's shared package: contracts, subjects, plumbing, the embedded runtime, the CLI."""

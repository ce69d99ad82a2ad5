"""The benchmark: the real pipeline measured beside its own ceiling, in one run."""

"""One module per route group, each exposing ``router``."""

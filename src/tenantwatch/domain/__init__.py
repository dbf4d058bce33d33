"""Pure domain logic: frozen dataclasses and functions; no I/O, no clock, no environment."""

"""External services the bank must connect, each behind an interface with a named simulator."""

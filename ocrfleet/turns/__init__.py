"""Fair turns at the seats: session limits, and when every seat is taken."""

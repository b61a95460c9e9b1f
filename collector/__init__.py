"""farmwatch-collector: enrolls agents, stores reports, flags relays."""

"""The built-in demo: the Vlaminggem fleet, an embedded broker and simulated agents."""

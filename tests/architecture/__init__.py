"""The shape of the code: what may import what, and how many modules a top folder holds."""

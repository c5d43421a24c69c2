"""Courses and service packages bought before booking, and their units."""

"""The front desk: attendance (check-in, check-out, no-show) and bookings staff make by hand."""

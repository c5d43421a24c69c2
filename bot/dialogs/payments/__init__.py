"""Paying in the chat: invoices, paying a booking, entry passes, monthly fees."""

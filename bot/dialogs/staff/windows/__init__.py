"""The staff dialog's windows, one module per group: the coming sessions and a roster, a
client's card, the front desk, money."""

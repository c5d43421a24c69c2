"""Money: the ledger, payments, refunds, monthly fees, entry passes, attendance credits."""

"""Stocktakes (盘点): counts by scanning, confirmation through the ledger, count sheets."""

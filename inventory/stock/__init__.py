"""Stock (库存): locations and shelves, the catalogue, batches, documents and the append-only movement ledger, imports, expiry and the journal."""

"""The audit trail: every state change appends an event, hash-chained and append-only
(database triggers refuse UPDATE and DELETE); `chain.verify` finds the first broken link."""

"""The lowest layer: records and the rules of their values (timestamps, token
hashes, phone numbers, script folding), with no state and no HTTP."""

"""Signed records as evidence: signature arrivals, the seal, PDF copies, addenda and verify."""

"""Social protection programmes: owners, targets, eligibility rules and benefits."""

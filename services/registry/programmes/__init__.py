"""Social protection programmes and their eligibility rules."""

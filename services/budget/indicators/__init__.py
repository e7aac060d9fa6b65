"""Indicators the formulas read, each per unit with its provenance: the registry's households
(kept from its events), the gazetteer's counts, and official datasets uploaded as CSV."""

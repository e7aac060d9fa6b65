"""Reference data for portals: the registry's code lists and the gazetteer, in Khmer and English."""

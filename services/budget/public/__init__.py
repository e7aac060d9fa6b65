"""Public disclosure (no login): published allocations, releases, spending and execution per
province, district and commune, with Khmer and English labels, JSON and CSV."""

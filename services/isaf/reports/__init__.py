"""Reports for the caller's subtree and a range of years, JSON or CSV, with Khmer and English
labels and their counting rules: participation, CAFs, scorecard results, JAAP completion, and
the project summary table NGOs write by hand today."""

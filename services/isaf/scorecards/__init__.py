"""Community scorecards and provider self-assessments: anonymous participant profiles,
indicators, one vote per participant and indicator, medians, and the offline sitting upload."""

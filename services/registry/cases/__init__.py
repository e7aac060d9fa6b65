"""Cases: reassessments and other follow-ups opened on a household."""

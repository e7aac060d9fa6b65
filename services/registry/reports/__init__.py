"""Reports for the caller's area: households and members by IDPoor level, sex and age group,
and enrolments and benefits by programme and period, as JSON or CSV."""

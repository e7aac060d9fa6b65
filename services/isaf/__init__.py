"""Social accountability (I-SAF) service: i-SAF cycles: CAFs and trainings, information for
citizens, community scorecards, self-assessments, interface meetings, JAAPs and public forums.
"""

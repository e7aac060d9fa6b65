"""Cases: follow-up work on a household or a member, assigned to an area and a person."""

"""Community Accountability Facilitators (volunteers) and the trainings of CAFs, service
providers and SNA staff."""

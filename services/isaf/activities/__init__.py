"""Activities with participation: I4C dissemination meetings, door-to-door dissemination,
JAAP committee meetings, interface meetings and public forums."""

"""The public I4C view of a commune/sangkat or urban khan: no login, no personal data."""

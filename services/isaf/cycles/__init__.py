"""Service providers (facilities) and the yearly I-SAF cycle of a commune/sangkat or urban
khan, with its stages."""

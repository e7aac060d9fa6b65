"""Support requests from a lower tier to its parent or grandparent, decided by the addressed
tier; JAAP actions of the I-SAF service arrive as requests and get the decision back."""

"""Who is calling: bearer JWTs verified against the identity provider's JWKS."""

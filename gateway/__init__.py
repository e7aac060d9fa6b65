"""The API gateway: the platform's only public entry."""

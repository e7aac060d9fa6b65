"""Change requests: the maker-checker workflow for changes to the registry."""

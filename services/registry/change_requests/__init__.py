"""Change requests: the maker-checker workflow for changes to verified households."""

"""The four domain services. None imports another; they meet only through events."""

"""The standard indicator catalogue (per facility type, versioned, Khmer and English, with
pictograms and audio for participants who cannot read) and the 1-5 rating scale."""

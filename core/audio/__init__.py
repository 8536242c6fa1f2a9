"""Audio analysis and mixing: waveform peaks, beat grids and the project tempo map, mixdown, loudness."""

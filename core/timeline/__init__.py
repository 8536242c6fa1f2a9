"""Sequences, tracks and clips, and the operations that edit them."""

from core.timeline.model import Clip, Sequence, Timeline, Track, create_sequence, list_sequences

__all__ = ["Clip", "Sequence", "Timeline", "Track", "create_sequence", "list_sequences"]

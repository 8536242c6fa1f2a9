"""Show playback: the transport (the one master clock everything follows)."""

from core.show.transport import Transport

__all__ = ["Transport"]

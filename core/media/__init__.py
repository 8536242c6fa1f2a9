"""Media: probe, frame-accurate decode, frame cache, proxies, audio, thumbnails.

Everything that touches PyAV lives here, and no ``av.error.*`` escapes this
package: every failure is a :class:`core.errors.MediaError` whose message
names the file.
"""

from core.media.hashing import content_hash
from core.media.probe import AudioInfo, MediaInfo, VideoInfo, probe
from core.media.proxy import ProxyJob, proxy_params, proxy_size
from core.media.reader import FrameReader
from core.media.thumbnails import decode_png, encode_png, filmstrip, thumbnail
from core.media.waveform import extract_audio, waveform_peaks

__all__ = [
    "AudioInfo",
    "FrameReader",
    "MediaInfo",
    "ProxyJob",
    "VideoInfo",
    "content_hash",
    "decode_png",
    "encode_png",
    "extract_audio",
    "filmstrip",
    "probe",
    "proxy_params",
    "proxy_size",
    "thumbnail",
    "waveform_peaks",
]

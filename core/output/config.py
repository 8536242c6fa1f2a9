"""Which outputs a project plays to, stored in the project file.

A project keeps a list of :class:`OutputConfig` (URL, the show universes it
carries, latency compensation, rate, enabled) as JSON in ``project_meta``
under ``dmx_outputs``, and one sACN component id (CID) that stays the same for
the life of the project (receivers use it to tell sources apart), under
``sacn_cid``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field

from core.output.base import OutputContext, OutputError, open_output
from core.project import Project

META_KEY = "dmx_outputs"
CID_KEY = "sacn_cid"


@dataclass
class OutputConfig:
    url: str
    universes: list[int] = field(default_factory=list)  # empty: every universe of the show
    latency_ms: float = 0.0
    rate: float = 44.0
    enabled: bool = True
    name: str = ""

    def validate(self) -> None:
        """Check the URL and its parameters (builds the output, touches no device or network)."""
        open_output(self.url)
        if not 1.0 <= self.rate <= 1000.0:
            raise OutputError(f"{self.url}: rate {self.rate:g} Hz is outside 1..1000")
        if not -1000.0 <= self.latency_ms <= 1000.0:
            raise OutputError(f"{self.url}: latency {self.latency_ms:g} ms is outside -1000..1000")
        for u in self.universes:
            if not 1 <= int(u) <= 63999:
                raise OutputError(f"{self.url}: universe {u} is outside 1..63999")

    @classmethod
    def from_dict(cls, data: dict) -> "OutputConfig":
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            raise OutputError(f"an output entry needs a url: {data!r}")
        return cls(
            url=data["url"],
            universes=[int(u) for u in data.get("universes", [])],
            latency_ms=float(data.get("latency_ms", 0.0)),
            rate=float(data.get("rate", 44.0)),
            enabled=bool(data.get("enabled", True)),
            name=str(data.get("name", "")),
        )

    def to_dict(self) -> dict:
        return asdict(self)


def load_outputs(project: Project) -> list[OutputConfig]:
    text = project.get_meta(META_KEY)
    if not text:
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputError(f"{project.path}: the stored output list is damaged ({exc}); set the outputs again") from None
    return [OutputConfig.from_dict(d) for d in data]


def save_outputs(project: Project, outputs: list[OutputConfig]) -> None:
    for o in outputs:
        o.validate()
    with project.transaction("set DMX outputs"):
        project.set_meta(META_KEY, json.dumps([o.to_dict() for o in outputs]))


def project_cid(project: Project) -> bytes:
    """The project's sACN CID (made once, then kept)."""
    text = project.get_meta(CID_KEY)
    if text:
        try:
            return uuid.UUID(text).bytes
        except ValueError:
            pass  # damaged: make a new one below
    cid = uuid.uuid4()
    project.set_meta(CID_KEY, str(cid))
    return cid.bytes


def output_context(project: Project) -> OutputContext:
    name = f"Luma Studio - {project.path.stem}"[:63]
    return OutputContext(cid=project_cid(project), source_name=name)

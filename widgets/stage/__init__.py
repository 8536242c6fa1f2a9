"""The stage view: a top-down plan of the rig in its live colours, and the same plan over the video viewer.

:class:`StageView` (a dock's widget: zoom, pan, fit, select, drag fixtures),
:class:`StageOverlay` (see-through, over a frame viewer). Both draw from
numpy arrays through :class:`~widgets.stage.raster.PlanRaster`.
"""

from widgets.stage.overlay import StageOverlay
from widgets.stage.plan import PlanWidget
from widgets.stage.raster import PlanRaster
from widgets.stage.view import StageView

__all__ = ["PlanRaster", "PlanWidget", "StageOverlay", "StageView"]

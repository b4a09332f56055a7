"""The zones of a pilot evaluation: the target, the buffer ring around it and the control area.

:func:`hotspots.pilot.evaluate_pilot` draws them with :func:`pilot_zones` and counts the
incidents in each with :func:`zone_masks`. The zones never overlap: the buffer is the ring of
``buffer_m`` metres around the target, and the target and its buffer are cut out of the control.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from .errors import InputError, ParameterError
from .study_area import AreaLike as Area
from .study_area import area_geometry
from .study_area import study_area as make_study_area

__all__ = ["Zones", "check_buffer", "pilot_zones", "zone_masks"]


@dataclass(frozen=True)
class Zones:
    """The target, buffer ring and control area of an evaluation (non-overlapping)."""

    target: BaseGeometry
    buffer: BaseGeometry
    control: BaseGeometry
    control_is_default: bool
    has_control: bool


def check_buffer(buffer_m: object) -> float:
    """``buffer_m`` as a float number of metres >= 0 (the ring around the target)."""
    try:
        buffer = float(buffer_m)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"buffer_m must be a number of metres; got {buffer_m!r}.") from None
    if not math.isfinite(buffer) or buffer < 0:
        raise ParameterError(f"buffer_m must be a number of metres >= 0; got {buffer_m!r}.")
    return buffer


def pilot_zones(
    incidents: gpd.GeoDataFrame,
    target: Area,
    control: Area | None,
    study_area: Area | None,
    buffer: float,
    notes: list[str],
) -> Zones:
    """Target, buffer ring and control (default or given, with target and buffer cut out)."""
    crs = incidents.crs
    target_geom = area_geometry(target, crs, "target")
    outer = target_geom.buffer(buffer, quad_segs=16) if buffer > 0 else target_geom
    control_is_default = control is None
    if control is None and study_area is not None:
        control_geom = area_geometry(study_area, crs, "study_area").difference(outer)
        notes.append(
            f"control area: the study area minus the target and a {buffer:.0f} m buffer "
            "(give control= for a matched comparison area)"
        )
    elif control is None:
        if len(incidents) < 3:
            raise InputError("too few incidents to draw a default control area; give control=.")
        area = make_study_area(incidents)
        control_geom = area.geometry.difference(outer)
        notes.append(
            f"control area: the study area (the incidents' convex hull + {area.buffer_m:.0f} m) "
            f"minus the target and a {buffer:.0f} m buffer (give control= or study_area= for a "
            "better one)"
        )
    else:
        given = area_geometry(control, crs, "control")
        control_geom = given.difference(outer)
        if control_geom.area < given.area * 0.999:
            notes.append("the target and its buffer were cut out of the control area")
    has_control = not control_geom.is_empty and control_geom.area > 0
    if not has_control:
        notes.append("the control area is empty once the target and buffer are cut out")
    return Zones(
        target=target_geom,
        buffer=outer.difference(target_geom),
        control=control_geom,
        control_is_default=control_is_default,
        has_control=has_control,
    )


def zone_masks(
    frame: gpd.GeoDataFrame, zones: Zones, buffer: float
) -> dict[str, npt.NDArray[np.bool_]]:
    """Which incidents lie in each zone (a boundary point goes to the first zone)."""
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    if len(xy) != len(frame):
        raise InputError("incidents must have one point geometry per row; use read_incidents().")
    x, y = xy[:, 0], xy[:, 1]
    in_target = shapely.intersects_xy(zones.target, x, y)
    in_buffer = ~in_target & (
        shapely.intersects_xy(zones.buffer, x, y) if buffer > 0 else np.zeros(len(x), bool)
    )
    in_control = (
        ~in_target & ~in_buffer & shapely.intersects_xy(zones.control, x, y)
        if zones.has_control
        else np.zeros(len(x), bool)
    )
    return {"target": in_target, "buffer": in_buffer, "control": in_control}

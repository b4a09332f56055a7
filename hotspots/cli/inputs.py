"""What the commands read: incidents filtered by the common arguments, wards, harm weights.

Also where they write (:func:`out_dir`) and whether the data are the synthetic demo.
"""

from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, ParameterError
from .arguments import in_command_words

__all__ = ["Inputs", "is_synthetic", "out_dir", "read_inputs"]

log = logging.getLogger("hotspots.cli")  # the CLI's progress lines


@dataclass
class Inputs:
    """What :func:`read_inputs` read: filtered incidents and what came with them."""

    incidents: Any
    report: Any
    wards: Any
    harm: dict[str, float] | None  # the harm table (--harm / --harm-weights), not yet applied
    harm_source: str | None
    data_months: list[str]  # the months the data cover, before any filter


def read_inputs(args: argparse.Namespace) -> Inputs:
    """Read ``args.inputs``, filter them (--from/--to/--crime-type), load --wards and --harm.

    The commands that read incidents the same way share this: ``analyse`` and the method
    commands (``kde``, ``gi``, ``change``, ``emerging``).
    """
    from geodata.layers import load_wards

    from ..filter import filter_incidents, months_covered
    from ..guardrails import check_boundaries
    from ..io import read_incidents

    log.info("Reading %s ...", ", ".join(args.inputs))
    incidents, report = read_incidents(args.inputs, crs=args.crs, layer=args.layer)
    # a month with none of a filtered crime type is a zero for it, not a month missing; a
    # month outside --from/--to is not covered (else a period there would count as empty)
    data_months = [
        m
        for m in months_covered(incidents)
        if (not args.start or m >= args.start) and (not args.end or m <= args.end)
    ]
    incidents = filter_incidents(
        incidents, report, start=args.start, end=args.end, categories=args.crime_type
    )
    for line in report.lines():  # with the rows the filters left out, under their reasons
        log.info("%s", in_command_words(line, args))
    if len(incidents) == 0:
        raise InputError(
            "no incidents left to analyse after the filters "
            f"(--from {args.start or '-'}, --to {args.end or '-'}, "
            f"--crime-type {', '.join(args.crime_type or ['all'])}); widen them."
        )
    wards = None
    if args.wards:
        wards, warnings = load_wards(args.wards, layer=args.wards_layer, incidents=incidents)
        for w in warnings:
            log.warning("%s", in_command_words(w, args))
        # the wards are the study area: ones for another place, or far larger than the
        # incidents' ground, make every PAI wrong (the dashboard says the same)
        for w in check_boundaries(incidents, wards, name_column="ward_name").warnings:
            log.warning("%s Check --wards.", w)
    harm = source = None
    if args.harm or args.harm_weights:
        from ..harm import HARM_SOURCE, harm_weights

        harm = harm_weights(args.harm_weights)
        source = f"your table {args.harm_weights}" if args.harm_weights else HARM_SOURCE
    return Inputs(incidents, report, wards, harm, source, data_months)


def is_synthetic(incidents: Any) -> bool:
    """Whether the incidents are the synthetic demo (its "Reported by" column says so)."""
    if "Reported by" not in incidents.columns:
        return False
    return any("synthetic" in str(s).lower() for s in incidents["Reported by"].unique())


def out_dir(path: str) -> Path:
    """The folder of ``--out``, created; a :class:`ParameterError` naming ``--out`` if not."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out}: is a file, not a folder; give a folder path.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"--out {out}: cannot create the folder ({exc.strerror}).") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise ParameterError(
            f"--out {out}: the folder is read-only for you; give a folder you can write to."
        )
    return out

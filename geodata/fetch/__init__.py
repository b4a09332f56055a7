"""Download reference layers: data.police.uk street crimes and ONS ward boundaries.

* :mod:`geodata.fetch.police`: :func:`~geodata.fetch.police.fetch_police` (street crimes inside
  a boundary, month by month, as the API JSON ``read_incidents`` reads) and
  :func:`~geodata.fetch.police.ward_boundary`.
* :mod:`geodata.fetch.ons`: :func:`~geodata.fetch.ons.fetch_wards` (the wards of a local
  authority district, as a GeoPackage).
* :mod:`geodata.fetch.client`: the polite HTTP client both use (rate limit, retries,
  Retry-After, a disk cache) and :class:`~geodata.fetch.client.FetchError`.

The services' default addresses are :data:`geodata.settings.POLICE_API` and
:data:`geodata.settings.ONS_WARDS_URL`.
"""

from __future__ import annotations

__all__: list[str] = []

"""The printable pages and every sentence the product prints (presentation layer).

Modules, from the pages down:

* :mod:`~hotspots.report.briefing`: :func:`~hotspots.report.briefing.briefing_html`,
  :func:`~hotspots.report.briefing.write_briefing`;
* :mod:`~hotspots.report.briefing_content`: every figure of the briefing as text, for the page
  and the dashboard beside it;
* :mod:`~hotspots.report.briefing_tables`: the briefing's hotspot and ward tables as text;
* :mod:`~hotspots.report.briefing_map`: the briefing's static map (PNG);
* :mod:`~hotspots.report.outreach_sheet`:
  :func:`~hotspots.report.outreach_sheet.outreach_sheet_html` (a page per hotspot),
  :func:`~hotspots.report.outreach_sheet.write_outreach_sheet`;
* :mod:`~hotspots.report.outreach_map`: the outreach sheet's small map (SVG, from the data);
* :mod:`~hotspots.report.scope`: what a printout counts (months, crime types, wards);
* :mod:`~hotspots.report.pilot_page`: :func:`~hotspots.report.pilot_page.pilot_report_html`,
  :func:`~hotspots.report.pilot_page.write_pilot_report`;
* :mod:`~hotspots.report.pilot_figures`: the pilot's monthly chart and zone map (PNG);
* :mod:`~hotspots.report.pilot_text`: the pilot evaluation in sentences;
* :mod:`~hotspots.report.figures`: map furniture shared by the images (polygons, labels,
  scale bar, north arrow, synthetic marks, the map frame);
* :mod:`~hotspots.report.wording`: every month, count and percent wording (never "-0%");
* :mod:`~hotspots.report.page`: page CSS and policy, checks, the page skeleton.

Which figures to hide is decided by :mod:`hotspots.disclosure` (the algorithms layer), never
here; HTML escaping is the kernel's :func:`hotspots._text.esc`.
"""

"""Page: Analysis (analysts); app.py runs it."""

from ui.roles import analysis_page

analysis_page()

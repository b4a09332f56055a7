"""Page: Prepare a briefing (council officers); app.py runs it."""

from ui.roles import briefing_page

briefing_page()

"""Page: Place outreach (outreach coordinators); app.py runs it."""

from ui.roles import outreach_page

outreach_page()

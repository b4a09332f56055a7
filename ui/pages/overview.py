"""Page: The landing page; app.py runs it."""

from ui.roles import overview_page

overview_page()

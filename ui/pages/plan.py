"""Page: Plan deployments (borough commanders); app.py runs it."""

from ui.roles import plan_page

plan_page()

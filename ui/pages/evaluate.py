"""Page: Evaluate an operation; app.py runs it."""

from ui.roles import evaluate_page

evaluate_page()

"""UI-only helpers and views of the Streamlit dashboard (app.py); no analysis here."""

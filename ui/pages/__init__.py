"""The dashboard's pages (``st.navigation`` in app.py runs one of them each run)."""

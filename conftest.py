"""pytest's view of the project root: which files are scripts, not modules to import for their
doctests (the Streamlit page scripts run the page when imported; ``__main__`` runs the CLI; Alembic's
env.py needs Alembic's context)."""

collect_ignore = ["streamlit_app.py", "tutor/__main__.py", "tutor/ui/pages", "benchmarks",
                  "tutor/migrations"]  # Alembic runs env.py itself, with its context set up

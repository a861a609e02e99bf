"""The Socratic history tutor. Layers and who owns what: tutor/services.py (the object graph)
and the import contracts in pyproject.toml."""

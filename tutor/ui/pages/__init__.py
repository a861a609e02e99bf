"""Page scripts for st.navigation: one import and one call each, so each rerun compiles almost nothing."""

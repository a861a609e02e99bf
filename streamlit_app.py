"""The Streamlit app: ``streamlit run streamlit_app.py``. Everything lives in tutor/ui."""

from tutor.ui.app import main

main()

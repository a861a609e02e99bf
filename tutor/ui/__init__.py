"""The Streamlit app: pages (``*_page.py``, thin) over plain service functions in this package.

``streamlit_app.py`` calls :func:`tutor.ui.app.main`. Everything a page does is a call into
``tutor.ui.chat``, ``tutor.ui.teacher``, ``tutor.ui.sources`` or ``tutor.ui.evaluation`` (plain
Python, tested without a browser), rendered with the helpers in ``tutor.ui.render``.
"""

"""The dashboard's server: the Streamlit app and the JSON API on one host and port.

    streamlit run server.py     (what scripts/run does)

`app.py` stays the Streamlit script (AppTest runs it alone); this launcher mounts the API
(`core.api`) at /api beside it, sharing the process's services.
"""

import altair  # noqa: F401  (the Activity page's charts: imported at start-up, 1-2 s, not by its first visitor)
import streamlit as st
from starlette.routing import Mount

from core.api import API_PATH, create_api
from core.bootstrap import shared_services

app = st.App("app.py", routes=[Mount(API_PATH, app=create_api(shared_services()))])

if __name__ == "__main__":
    app.run()

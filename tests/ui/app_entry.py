"""Runs the real app.py from a folder without pages/, as a served app runs it.

AppTest resets Streamlit's "legacy pages/ folder" detection before every run, so with the
real app.py every run after the first would execute the page script alone (the deep-link
case, tested separately). Served from here, app.py routes on every run, as in production.
"""

import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
runpy.run_path(str(ROOT / "app.py"), run_name="__main__")

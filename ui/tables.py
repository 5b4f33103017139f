"""``column_config`` of the dashboard's tables: readable headers, numbers and times shown by
the browser in its own locale and the reader's time zone."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.records import RecordReader


def record_columns(reader: RecordReader) -> dict[str, Any]:
    """The columns of a table of records: numbers and times localized by the browser."""
    config: dict[str, Any] = {}
    for label, kind in reader.column_kinds().items():
        if kind == "number":
            config[label] = st.column_config.NumberColumn(label, format="localized")
        else:
            config[label] = st.column_config.DatetimeColumn(
                label, format="localized", timezone=reader.loc.tz_name
            )
    return config

"""Use cases, each called with its actor first (``actors.py``): previews (``previews/``),
selective sync, the activity log (``events.py`` writes, ``activity.py`` reads), accounts,
connectors and the demo. The layout is drawn in docs/architecture.md."""

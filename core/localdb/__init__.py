"""The organization's own database as the local side of a diff (read-only).

    settings = DatabaseSettings.from_url("postgresql://crm@db:5432/crm", password=secret)
    db = LocalDatabase(settings)
    db.test_connection()                  # ConnectionCheck(ok, message)
    db.tables(); db.columns("crm.clients")
    mapping = LocalMapping.create("woocommerce", "customers", table="crm.clients",
                                  match="natural", columns={"email": "mail", "city": "town"})
    LocalReader(db, mapping).sample(20)   # the first rows as the engine compares them
    for frame in LocalReader(db, mapping).frames(): ...   # CanonicalFrames, streamed
    compare(db, mapping, external_frames) # MatchedResult: delta + ambiguous keys

Files for users without database access: ``fileimport.parse_file``.
"""

from core.localdb.connection import ConnectionCheck, LocalDatabase, ReadSession
from core.localdb.dialects import ColumnInfo, TableInfo
from core.localdb.mapping import LinesMapping, LocalMapping, MatchMode
from core.localdb.reader import LocalReader, Sample, compare
from core.localdb.settings import DatabaseSettings

__all__ = [
    "ColumnInfo",
    "ConnectionCheck",
    "DatabaseSettings",
    "LinesMapping",
    "LocalDatabase",
    "LocalMapping",
    "LocalReader",
    "MatchMode",
    "ReadSession",
    "Sample",
    "TableInfo",
    "compare",
]

"""Complaint archives (诉求档案): GeoParquet out of the database, and whole archives resolved and analysed on Dask.

- `exporting`: `complaints_export` streams the complaints a caller may read into a GeoParquet archive, partitioned
  by month (`month=2026-11/part-000012.parquet`), WGS-84, with the verdict columns and the category levels.
- `cluster`: a Dask client for a local cluster sized to the machine, or for a running scheduler.
- `resolving`: `archive_resolve` resolves every row of an archive with the jurisdiction engine on Dask workers,
  the engine's state built once and shipped to each worker once; rows that need the database engine come back
  to the client, which has the database.

Bulk intake reads such archives back (`complaints.bulk.reading`). See docs/scale.md.
"""

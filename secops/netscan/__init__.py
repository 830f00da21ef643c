"""Network inventory scanning: scope guard, named nmap profiles, streaming XML ingest, diff, unknowns.

Entry points: ``service.prepare_scan`` / ``runner.run`` / ``service.store_scan`` (a scan),
``service.import_file`` (nmap XML made elsewhere), ``diff.diff_scans``, ``unknowns.find_unknowns``,
``queries.host_observations`` and ``facts.network_facts`` (for other features).
"""

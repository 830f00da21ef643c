"""Inventory of agencies, information systems, hosts and network scopes: import, validation, export, queries.

Entry points: ``secops.inventory.importer.import_files`` (all-or-nothing import), ``secops.inventory.export``
(export in the import format) and ``secops.inventory.queries`` (look-ups for other features).
"""

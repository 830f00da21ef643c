"""secops: security levels, compliance checks, network scans and incident response for Vietnamese government IT."""

__version__ = "0.1.0"

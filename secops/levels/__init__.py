"""Security levels (cấp độ): rule sets per legal regime, the level engine, approval and dossier."""

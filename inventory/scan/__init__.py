"""Scanning (扫码): label codes, the scan landing pages, the camera scanner and label printing (``labels/`` is the pure renderer)."""

"""Blueprints of this domain: views parse, check access, call one service and render."""

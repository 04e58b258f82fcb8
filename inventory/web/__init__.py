"""The web layer shared by every domain: extensions, route access, the forms base, one-time tokens, the navigation bar, i18n, error pages and security headers.  Imports ``core`` only."""

"""Domain services.  They change data and flush; the request, CLI command or job commits once.

Services never touch ``request``, ``session`` or ``flash``: the acting user and
``today`` are arguments.  On a :class:`~inventory.services.errors.DomainError`
nothing must be committed: the caller rolls back.
"""

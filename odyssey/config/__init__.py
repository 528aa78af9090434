"""The stack configuration: parsed once, at the edge, into typed pydantic models.

``stack`` holds the top-level model and the parsing entry points, ``machine``
and ``app`` the models of the machine layer and of the application stack,
``checks`` the checks across keys; ``base`` the shared model base and errors.
Every problem becomes one ``Problem`` (key, what is wrong, a valid example),
raised together before anything registers.
"""

"""Built-in mock model provider speaking the OpenAI wire format.

Run it with ``python -m mock_provider --port 8090``; build the ASGI app in-process with
:func:`mock_provider.app.create_app`.
"""

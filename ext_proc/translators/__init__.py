"""Provider translators: OpenAI wire format <-> each provider's, as pure functions over bytes.

One module per provider; `registry.py` is the one place that maps a provider name to its
translator, and it fails loudly for an unknown one.
"""

"""Provider credentials, injected per upstream attempt: static headers, AWS SigV4, GCP OAuth.

Which scheme a provider uses lives in `schemes.py` (one table); the secret itself arrives
decrypted in the config snapshot and never leaves this package except as request headers.
"""

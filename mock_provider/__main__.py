"""``python -m mock_provider``: run the mock provider under uvicorn."""

from mock_provider.server import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Pieces shared by every Open Model Gateway process: settings, paths, key hashing."""

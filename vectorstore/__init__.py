"""Chroma storage, the catalog of committed articles, and the embedding model."""

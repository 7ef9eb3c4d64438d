"""The offline answering core: retrieval, the extractive answerer, answer types, the chain and the reply text.

May import ingest, vectorstore, prompts and app's bottom (settings, schemas, errors); never llm, web, eval or service.
"""

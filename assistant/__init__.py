"""Chinese RAG assistant package."""

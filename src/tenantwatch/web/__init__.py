"""HTTP: the FastAPI app factory, REST API, compatible APIs, UI and status pages."""

"""Where the API's routes live: one prefix for the routers, the read cache and the
command-line client. Imports nothing, so the client gets it without loading FastAPI."""

API_PREFIX = "/api/v1"
STUDIES = f"{API_PREFIX}/studies"
